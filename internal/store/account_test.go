package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// accountWorld is two families sharing a member and a third that is not
// Ann's, each with care records.
type accountWorld struct {
	ann, bo, cy            *care.User
	lees, solo, strangers  *care.Family
	grandma, stranger      *care.CareRecipient
	med, strangerMed       *care.Medication
	log                    *care.MedicationLog
	annSession, boSession  *care.Session
	annEndpoint            string
	timelineID, strangerTL string
}

// insertTimelineEntry writes a timeline entry with raw SQL, so these tests
// depend on nothing but the schema.
func insertTimelineEntry(t *testing.T, s *store.Store, id, crID, byID, title string, at time.Time) {
	t.Helper()
	stamp := at.UTC().Format("2006-01-02T15:04:05.000000Z")
	_, err := s.DB().Exec(`INSERT INTO timeline_entries (id, care_recipient_id, created_by_id, type,
		title, severity, vitals, attachments, occurred_at, created_at, updated_at)
		VALUES ($1, $2, $3, 'VITALS', $4, 'LOW', '{"heartRate":72}', '[]', $5, $5, $5)`, id, crID, byID, title, stamp)
	if err != nil {
		t.Fatal(err)
	}
}

func newAccountWorld(t *testing.T, s *store.Store, clk *clock.Fake) *accountWorld {
	t.Helper()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	w := &accountWorld{ann: newUser(t, s, "ann@example.com"), bo: newUser(t, s, "bo@example.com"), cy: newUser(t, s, "cy@example.com")}
	var err error
	for _, u := range []**care.User{&w.ann, &w.bo, &w.cy} {
		*u, err = s.ActivateUser(ctx, (*u).ID)
		must(err)
	}
	w.lees, _, err = s.CreateFamily(ctx, "Lees", w.ann.ID, nil)
	must(err)
	joinAs(t, s, w.lees.ID, w.ann.ID, w.bo, care.RoleCaregiver)
	w.solo, _, err = s.CreateFamily(ctx, "Ann alone", w.ann.ID, nil)
	must(err)
	w.strangers, _, err = s.CreateFamily(ctx, "Strangers", w.cy.ID, nil)
	must(err)

	w.grandma, err = s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.lees.ID, FullName: "Grandma", Timezone: "Europe/Berlin"})
	must(err)
	w.stranger, err = s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.strangers.ID, FullName: "Stranger", Timezone: "Europe/Berlin"})
	must(err)
	w.med, err = s.CreateMedication(ctx, care.Medication{CareRecipientID: w.grandma.ID, Name: "Metformin", Dosage: "500 mg",
		Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{"08:00"}, IsActive: true})
	must(err)
	w.strangerMed, err = s.CreateMedication(ctx, care.Medication{CareRecipientID: w.stranger.ID, Name: "Secretol", Dosage: "1 mg",
		Form: care.FormTablet, Frequency: care.FrequencyDaily, ScheduledTimes: []string{"09:00"}, IsActive: true})
	must(err)
	w.log, _, err = s.LogDose(ctx, w.med.ID, care.DoseEntry{Status: care.DoseGiven, ScheduledTime: t0.Add(-time.Hour), LoggedByID: w.ann.ID})
	must(err)
	w.timelineID, w.strangerTL = "0190f000-0000-7000-8000-0000000000a1", "0190f000-0000-7000-8000-0000000000a2"
	insertTimelineEntry(t, s, w.timelineID, w.grandma.ID, w.ann.ID, "Morning vitals", t0)
	insertTimelineEntry(t, s, w.strangerTL, w.stranger.ID, w.cy.ID, "Stranger vitals", t0)

	w.annSession, err = s.CreateSession(ctx, store.NewSession{UserID: w.ann.ID, TTL: time.Hour, RefreshHash: "ann-refresh-hash"})
	must(err)
	w.boSession, err = s.CreateSession(ctx, store.NewSession{UserID: w.bo.ID, TTL: time.Hour, RefreshHash: "bo-refresh-hash"})
	must(err)
	w.annEndpoint = "https://push.example.com/ann"
	_, err = s.SavePushSubscription(ctx, store.PushSubscription{UserID: w.ann.ID, Endpoint: w.annEndpoint, P256dh: "k", Auth: "a"})
	must(err)
	_, err = s.SavePushToken(ctx, w.ann.ID, "fcm-ann", "android")
	must(err)
	_, err = s.InsertNotifications(ctx, []care.Notification{
		{UserID: w.ann.ID, Type: care.NotifyGeneral, Title: "For Ann", Body: "hello", Data: json.RawMessage(`{}`)},
		{UserID: w.bo.ID, Type: care.NotifyGeneral, Title: "For Bo", Body: "hello", Data: json.RawMessage(`{}`)},
	})
	must(err)
	clk.Advance(time.Minute)
	return w
}

// joinAs makes u a member of the family with role through an invitation.
func joinAs(t *testing.T, s *store.Store, familyID, inviterID string, u *care.User, role care.Role) {
	t.Helper()
	ctx := context.Background()
	hash := "invite-" + familyID + "-" + u.ID
	if _, err := s.CreateInvitation(ctx, store.NewInvitation{FamilyID: familyID, Email: u.Email, Role: role,
		InvitedByID: inviterID, TokenHash: hash, TTL: care.InvitationTTL}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, hash, u.ID, u.Email); err != nil {
		t.Fatal(err)
	}
}

// exported collects one export section as JSON objects.
func exported(t *testing.T, s *store.Store, userID string, sec store.ExportSection) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := s.EachExported(context.Background(), userID, sec, func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatalf("export %s: %v", sec, err)
	}
	return out
}

func ids(rows []map[string]any, field string) []any {
	out := []any{}
	for _, r := range rows {
		out = append(out, r[field])
	}
	return out
}

func TestExportHoldsWhatTheUserSees(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		w := newAccountWorld(t, s, clk)
		// Bo leaves a family of Cy's after a while: his membership stays in
		// his export, the family's care records do not.
		joinAs(t, s, w.strangers.ID, w.cy.ID, w.bo, care.RoleViewer)
		m, err := s.MemberOf(ctx, w.strangers.ID, w.bo.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveMember(ctx, w.strangers.ID, m.ID); err != nil {
			t.Fatal(err)
		}

		// Shifts, alerts and documents of Bo's family and of Cy's.
		shift, err := s.CreateShift(ctx, store.NewShift{CareRecipientID: w.grandma.ID, CaregiverID: w.bo.ID,
			StartTime: t0.Add(24 * time.Hour), EndTime: t0.Add(28 * time.Hour), CreatedByID: w.ann.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateShift(ctx, store.NewShift{CareRecipientID: w.stranger.ID, CaregiverID: w.cy.ID,
			StartTime: t0.Add(24 * time.Hour), EndTime: t0.Add(28 * time.Hour), CreatedByID: w.cy.ID}); err != nil {
			t.Fatal(err)
		}
		alert, err := s.CreateEmergencyAlert(ctx, store.NewEmergencyAlert{CareRecipientID: w.grandma.ID, CreatedByID: w.ann.ID,
			Type: care.AlertFall, Title: "Fell in the garden", Description: "Conscious"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateEmergencyAlert(ctx, store.NewEmergencyAlert{CareRecipientID: w.stranger.ID, CreatedByID: w.cy.ID,
			Type: care.AlertMedical, Title: "Stranger alert", Description: "-"}); err != nil {
			t.Fatal(err)
		}
		doc, err := s.CreateDocument(ctx, store.Document{FamilyID: w.lees.ID, UploadedByID: &w.ann.ID, Name: "Insurance card",
			Type: store.DocInsuranceCard, MimeType: "image/png", SizeBytes: 1234, Filename: "card.png", StorageKey: "lees/secret-key"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateDocument(ctx, store.Document{FamilyID: w.strangers.ID, Name: "Stranger's will", Type: store.DocOther,
			MimeType: "application/pdf", SizeBytes: 99, Filename: "will.pdf", StorageKey: "strangers/b"}); err != nil {
			t.Fatal(err)
		}

		ms := exported(t, s, w.bo.ID, store.ExportMemberships)
		if len(ms) != 2 || ms[0]["familyName"] != "Lees" || ms[0]["role"] != "CAREGIVER" || ms[0]["isActive"] != true ||
			ms[1]["familyName"] != "Strangers" || ms[1]["isActive"] != false {
			t.Fatalf("bo's memberships = %v", ms)
		}
		if got := ids(exported(t, s, w.bo.ID, store.ExportCareRecipients), "id"); len(got) != 1 || got[0] != w.grandma.ID {
			t.Fatalf("bo's care recipients = %v, want only grandma", got)
		}
		if got := ids(exported(t, s, w.bo.ID, store.ExportMedications), "id"); len(got) != 1 || got[0] != w.med.ID {
			t.Fatalf("bo's medications = %v", got)
		}
		logs := exported(t, s, w.bo.ID, store.ExportMedicationLogs)
		if len(logs) != 1 || logs[0]["id"] != w.log.ID || logs[0]["givenBy"].(map[string]any)["fullName"] != w.ann.FullName {
			t.Fatalf("bo's medication logs = %v", logs)
		}
		tl := exported(t, s, w.bo.ID, store.ExportTimeline)
		if len(tl) != 1 || tl[0]["id"] != w.timelineID || tl[0]["vitals"].(map[string]any)["heartRate"] != 72.0 {
			t.Fatalf("bo's timeline = %v", tl)
		}
		if sh := exported(t, s, w.bo.ID, store.ExportShifts); len(sh) != 1 || sh[0]["id"] != shift.ID || sh[0]["caregiverId"] != w.bo.ID {
			t.Fatalf("bo's shifts = %v", sh)
		}
		if al := exported(t, s, w.bo.ID, store.ExportAlerts); len(al) != 1 || al[0]["id"] != alert.ID || al[0]["title"] != "Fell in the garden" {
			t.Fatalf("bo's emergency alerts = %v", al)
		}
		docs := exported(t, s, w.bo.ID, store.ExportDocuments)
		if len(docs) != 1 || docs[0]["id"] != doc.ID || docs[0]["name"] != "Insurance card" {
			t.Fatalf("bo's documents = %v", docs)
		}
		if b, _ := json.Marshal(docs); strings.Contains(string(b), "secret-key") {
			t.Fatalf("the export names where a document is stored: %s", b)
		}
		if got := ids(exported(t, s, w.bo.ID, store.ExportNotifications), "title"); len(got) != 1 || got[0] != "For Bo" {
			t.Fatalf("bo's notifications = %v", got)
		}
		sess := exported(t, s, w.bo.ID, store.ExportSessions)
		if len(sess) != 1 || sess[0]["id"] != w.boSession.ID {
			t.Fatalf("bo's sessions = %v", sess)
		}
		for _, sec := range store.ExportSections() {
			for _, row := range exported(t, s, w.bo.ID, sec) {
				b, _ := json.Marshal(row)
				for _, secret := range []string{"bo-refresh-hash", "ann-refresh-hash", `"hash"`} {
					if strings.Contains(string(b), secret) {
						t.Fatalf("%s leaks %q: %s", sec, secret, b)
					}
				}
			}
		}
		// Cy sees her own family's records and none of the Lees'.
		if got := ids(exported(t, s, w.cy.ID, store.ExportMedications), "id"); len(got) != 1 || got[0] != w.strangerMed.ID {
			t.Fatalf("cy's medications = %v", got)
		}
		if err := s.EachExported(ctx, w.bo.ID, "passwords", func(any) error { return nil }); err == nil {
			t.Fatal("an unknown section was accepted")
		}
		stop := errors.New("stop")
		n := 0
		err = s.EachExported(ctx, w.ann.ID, store.ExportMemberships, func(any) error { n++; return stop })
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("a failing visitor: %v after %d rows", err, n)
		}
	})
}

func TestDeleteAccountRefusesTheLastAdmin(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		w := newAccountWorld(t, s, clk)

		_, err := s.DeleteAccount(ctx, w.ann.ID)
		var last *store.LastAdminError
		if !errors.As(err, &last) || !errors.Is(err, store.ErrLastAdmin) || !errors.Is(err, store.ErrConflict) ||
			len(last.Families) != 1 || last.Families[0].ID != w.lees.ID {
			t.Fatalf("deleting the Lees' last admin: %v", err)
		}
		// Nothing changed, not even in the family Ann is alone in.
		u, err := s.UserByID(ctx, w.ann.ID)
		if err != nil || u.Status != care.UserActive || u.Email != "ann@example.com" {
			t.Fatalf("ann after the refusal = %+v, %v", u, err)
		}
		if _, err := s.Family(ctx, w.solo.ID); err != nil {
			t.Fatalf("ann's own family: %v", err)
		}
		if _, err := s.MemberOf(ctx, w.lees.ID, w.ann.ID); err != nil {
			t.Fatalf("ann's membership: %v", err)
		}
		if _, _, err := s.ActiveSession(ctx, w.annSession.ID); err != nil {
			t.Fatalf("ann's session: %v", err)
		}
		if subs, _ := s.PushSubscriptions(ctx, w.ann.ID); len(subs) != 1 {
			t.Fatalf("ann's subscriptions = %v", subs)
		}
	})
}

func TestDeleteAccountAnonymisesAndKeepsCareRecords(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		w := newAccountWorld(t, s, clk)
		boMember, err := s.MemberOf(ctx, w.lees.ID, w.bo.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.ChangeMemberRole(ctx, w.lees.ID, boMember.ID, care.RoleAdmin); err != nil {
			t.Fatal(err)
		}

		d, err := s.DeleteAccount(ctx, w.ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Left) != 1 || d.Left[0].FamilyID != w.lees.ID || d.Left[0].UserID != w.ann.ID || d.Left[0].IsActive ||
			d.Left[0].User == nil || d.Left[0].User.FullName != store.DeletedUserName {
			t.Fatalf("left = %+v", d.Left)
		}
		if len(d.DeletedFamilies) != 1 || d.DeletedFamilies[0].ID != w.solo.ID {
			t.Fatalf("deleted families = %+v", d.DeletedFamilies)
		}

		u, err := s.UserByID(ctx, w.ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != care.UserDeleted || u.Email != store.DeletedUserEmail(w.ann.ID) || u.FullName != store.DeletedUserName ||
			u.Phone != nil || u.EmailVerified || u.PasswordHash == "hash" || string(u.Preferences) != "{}" {
			t.Fatalf("anonymised user = %+v", u)
		}
		if _, err := s.UserByEmail(ctx, "ann@example.com"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the old email still finds an account: %v", err)
		}
		// The address is free to sign up again.
		if _, err := s.CreateUser(ctx, store.NewUser{Email: "ann@example.com", PasswordHash: "h", FullName: "New Ann",
			Timezone: "UTC", Status: care.UserPending}); err != nil {
			t.Fatalf("signing up again: %v", err)
		}
		if _, _, err := s.ActiveSession(ctx, w.annSession.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ann's session survived: %v", err)
		}
		if _, err := s.SessionByRefreshToken(ctx, "ann-refresh-hash"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ann's refresh token survived: %v", err)
		}
		if _, _, err := s.ActiveSession(ctx, w.boSession.ID); err != nil {
			t.Fatalf("bo's session ended too: %v", err)
		}
		if subs, _ := s.PushSubscriptions(ctx, w.ann.ID); len(subs) != 0 {
			t.Fatalf("subscriptions left: %v", subs)
		}
		if toks, _ := s.PushTokens(ctx, w.ann.ID); len(toks) != 0 {
			t.Fatalf("push tokens left: %v", toks)
		}
		if ns, _ := s.UserNotifications(ctx, w.ann.ID, store.NotificationQuery{}); len(ns) != 0 {
			t.Fatalf("notifications left: %v", ns)
		}
		if ns, _ := s.UserNotifications(ctx, w.bo.ID, store.NotificationQuery{}); len(ns) != 1 {
			t.Fatalf("bo's notifications = %v", ns)
		}
		if _, err := s.MemberOf(ctx, w.lees.ID, w.ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ann is still a member: %v", err)
		}
		if members, _ := s.Members(ctx, w.lees.ID); len(members) != 1 || members[0].UserID != w.bo.ID {
			t.Fatalf("the Lees' members = %+v", members)
		}
		if _, err := s.Family(ctx, w.solo.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("ann's own family survived: %v", err)
		}
		// The dose Ann gave is still on record, under the same id, by "Deleted user".
		logs, err := s.MedicationLogs(ctx, w.med.ID, store.MedicationLogRange{Limit: 10})
		if err != nil || len(logs) != 1 || logs[0].ID != w.log.ID || logs[0].GivenBy == nil ||
			logs[0].GivenBy.ID != w.ann.ID || logs[0].GivenBy.FullName != store.DeletedUserName {
			t.Fatalf("logs after deletion = %+v, %v", logs, err)
		}
		tl := exported(t, s, w.bo.ID, store.ExportTimeline)
		if len(tl) != 1 || tl[0]["createdBy"].(map[string]any)["fullName"] != store.DeletedUserName {
			t.Fatalf("timeline after deletion = %v", tl)
		}

		if _, err := s.DeleteAccount(ctx, w.ann.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
	})
}
