package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// newFamily creates a family whose ADMIN is admin.
func newFamily(t *testing.T, s *store.Store, name string, admin *care.User) *care.Family {
	t.Helper()
	f, m, err := s.CreateFamily(context.Background(), name, admin.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Role != care.RoleAdmin || m.UserID != admin.ID || !m.IsActive {
		t.Fatalf("creator membership = %+v", m)
	}
	return f
}

// join invites u to the family with role and accepts, returning the membership.
func join(t *testing.T, s *store.Store, f *care.Family, inviter, u *care.User, role care.Role) *care.Member {
	t.Helper()
	ctx := context.Background()
	tok := auth.NewOpaqueToken()
	if _, err := s.CreateInvitation(ctx, store.NewInvitation{FamilyID: f.ID, Email: u.Email, Role: role,
		InvitedByID: inviter.ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, auth.HashToken(tok), u.ID, u.Email); err != nil {
		t.Fatal(err)
	}
	m, err := s.MemberOf(ctx, f.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFamilies(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		ann := newUser(t, s, "ann@example.com")
		bob := newUser(t, s, "bob@example.com")

		name := `O'Brien "family"; DROP TABLE families; --`
		f := newFamily(t, s, name, ann)
		if f.Name != name || !f.CreatedAt.Equal(t0.Truncate(time.Microsecond)) {
			t.Fatalf("family = %+v", f)
		}
		clk.Advance(time.Minute)
		other := newFamily(t, s, "Other", bob)
		if _, err := s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Grandma", Timezone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}

		sums, err := s.UserFamilies(ctx, ann.ID)
		if err != nil || len(sums) != 1 || sums[0].ID != f.ID || sums[0].Name != name || sums[0].Role != care.RoleAdmin ||
			len(sums[0].CareRecipients) != 1 || sums[0].CareRecipients[0].Timezone != "Asia/Tokyo" {
			t.Fatalf("UserFamilies(ann) = %+v, %v", sums, err)
		}
		join(t, s, other, bob, ann, care.RoleViewer)
		sums, err = s.UserFamilies(ctx, ann.ID)
		if err != nil || len(sums) != 2 || sums[1].ID != other.ID || sums[1].Role != care.RoleViewer ||
			sums[1].CareRecipients == nil || len(sums[1].CareRecipients) != 0 {
			t.Fatalf("UserFamilies(ann) after joining = %+v, %v", sums, err)
		}
		if none, err := s.UserFamilies(ctx, newUser(t, s, "cy@example.com").ID); err != nil || none == nil || len(none) != 0 {
			t.Fatalf("UserFamilies(nobody) = %#v, %v", none, err)
		}

		ls, err := s.FamilyListings(ctx, ann.ID)
		if err != nil || len(ls) != 2 || ls[1].MemberCount != 2 || len(ls[1].Members) != 2 ||
			ls[1].Members[0].User == nil || ls[1].Members[0].User.Email != "bob@example.com" || len(ls[0].CareRecipients) != 1 {
			t.Fatalf("FamilyListings = %+v, %v", ls, err)
		}

		clk.Advance(time.Minute)
		renamed, err := s.RenameFamily(ctx, f.ID, "The Lees")
		if err != nil || renamed.Name != "The Lees" || !renamed.UpdatedAt.After(renamed.CreatedAt) {
			t.Fatalf("RenameFamily = %+v, %v", renamed, err)
		}
		if _, err := s.RenameFamily(ctx, "00000000-0000-0000-0000-000000000000", "x"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rename missing = %v", err)
		}

		if err := s.DeleteFamily(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Family(ctx, f.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted family = %v", err)
		}
		if err := s.DeleteFamily(ctx, f.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete = %v", err)
		}
		if sums, _ := s.UserFamilies(ctx, ann.ID); len(sums) != 1 || sums[0].ID != other.ID {
			t.Fatalf("UserFamilies after delete = %+v", sums)
		}
	})
}

func TestMembersKeepAnAdmin(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		ann := newUser(t, s, "ann@example.com")
		bob := newUser(t, s, "bob@example.com")
		f := newFamily(t, s, "Lees", ann)
		annM, err := s.MemberOf(ctx, f.ID, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChangeMemberRole(ctx, f.ID, annM.ID, care.RoleCaregiver); !errors.Is(err, store.ErrLastAdmin) || !errors.Is(err, store.ErrConflict) {
			t.Fatalf("demote last admin = %v", err)
		}
		if err := s.RemoveMember(ctx, f.ID, annM.ID); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("remove last admin = %v", err)
		}

		bobM := join(t, s, f, ann, bob, care.RoleCaregiver)
		if _, err := s.ChangeMemberRole(ctx, "00000000-0000-0000-0000-000000000000", bobM.ID, care.RoleAdmin); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("role change in another family = %v", err)
		}
		got, err := s.ChangeMemberRole(ctx, f.ID, bobM.ID, care.RoleAdmin)
		if err != nil || got.Role != care.RoleAdmin || got.User == nil || got.User.Email != bob.Email {
			t.Fatalf("promote bob = %+v, %v", got, err)
		}
		if got, err = s.ChangeMemberRole(ctx, f.ID, annM.ID, care.RoleViewer); err != nil || got.Role != care.RoleViewer {
			t.Fatalf("demote ann with bob admin = %+v, %v", got, err)
		}
		if err := s.RemoveMember(ctx, f.ID, bobM.ID); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("remove bob, the last admin = %v", err)
		}
		if err := s.RemoveMember(ctx, f.ID, annM.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.MemberOf(ctx, f.ID, ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("removed member still active: %v", err)
		}
		if err := s.RemoveMember(ctx, f.ID, annM.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("remove again = %v", err)
		}
		ms, err := s.Members(ctx, f.ID)
		if err != nil || len(ms) != 1 || ms[0].UserID != bob.ID {
			t.Fatalf("Members = %+v, %v", ms, err)
		}

		// A new invitation brings a removed member back with the new role.
		again := join(t, s, f, bob, ann, care.RoleCaregiver)
		if again.ID != annM.ID || again.Role != care.RoleCaregiver || !again.IsActive {
			t.Fatalf("rejoined = %+v (was %+v)", again, annM)
		}
	})
}

// TestLastAdminRace has two admins demote each other at once: the family
// keeps one.
func TestLastAdminRace(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		ann := newUser(t, s, "ann@example.com")
		bob := newUser(t, s, "bob@example.com")
		f := newFamily(t, s, "Lees", ann)
		annM, _ := s.MemberOf(ctx, f.ID, ann.ID)
		bobM := join(t, s, f, ann, bob, care.RoleAdmin)
		for round := 0; round < 5; round++ {
			errs := make(chan error, 2)
			for _, id := range []string{annM.ID, bobM.ID} {
				go func() {
					if round%2 == 0 {
						_, err := s.ChangeMemberRole(ctx, f.ID, id, care.RoleViewer)
						errs <- err
					} else {
						errs <- s.RemoveMember(ctx, f.ID, id)
					}
				}()
			}
			e1, e2 := <-errs, <-errs
			if (e1 == nil) == (e2 == nil) || !errors.Is(errors.Join(e1, e2), store.ErrLastAdmin) {
				t.Fatalf("round %d: concurrent demotions = %v, %v; want exactly one ErrLastAdmin", round, e1, e2)
			}
			ms, err := s.Members(ctx, f.ID)
			if err != nil {
				t.Fatal(err)
			}
			admins := 0
			for _, m := range ms {
				if m.Role == care.RoleAdmin {
					admins++
				}
			}
			if admins != 1 {
				t.Fatalf("round %d: %d admins left: %+v", round, admins, ms)
			}
			// Restore two admins for the next round; a removed member rejoins
			// with the same membership id.
			for _, pair := range [][2]*care.User{{ann, bob}, {bob, ann}} {
				u, other := pair[0], pair[1]
				m, err := s.MemberOf(ctx, f.ID, u.ID)
				switch {
				case errors.Is(err, store.ErrNotFound):
					join(t, s, f, other, u, care.RoleAdmin)
				case err != nil:
					t.Fatal(err)
				case m.Role != care.RoleAdmin:
					if _, err := s.ChangeMemberRole(ctx, f.ID, m.ID, care.RoleAdmin); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	})
}
