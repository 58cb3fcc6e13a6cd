package feature_test

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/featuretest"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// A node-memory cache keeps a family's view as it is, shared by every
// read; each reader still gets care recipients of its own, so what one
// changes no other sees.
func TestFamilyViewFromMemoryIsEachReadersOwn(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	st := storetest.OpenSQLite(t, clk)
	b := feature.New(feature.Deps{Store: st, Cache: kv.NewMemoryCache(clk, 0), Clock: clk})
	ann := featuretest.Actor(t, st, "ann@example.com")
	fam, _ := featuretest.Family(t, st, ann, "UTC")
	ctx := context.Background()
	first, err := b.FamilyView(ctx, fam)
	if err != nil || len(first.CareRecipients) != 1 {
		t.Fatalf("view = %+v, %v", first, err)
	}
	first.CareRecipients[0].FullName = "Changed by a reader"
	for range 2 {
		fams, err := b.UserFamilies(ctx, ann.ID())
		if err != nil || len(fams) != 1 || fams[0].CareRecipients[0].FullName != "Gran Lee" {
			t.Fatalf("families = %+v, %v", fams, err)
		}
		fams[0].CareRecipients[0].FullName = "Changed by another reader"
	}
	again, err := b.FamilyView(ctx, fam)
	if err != nil || again.CareRecipients[0].FullName != "Gran Lee" {
		t.Fatalf("view after readers changed theirs = %+v, %v", again, err)
	}
}

// A care recipient read through an access check is the reader's own, though
// it comes from the family's view kept in node memory.
func TestCareRecipientFromMemoryIsEachReadersOwn(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC))
	st := storetest.OpenSQLite(t, clk)
	b := feature.New(feature.Deps{Store: st, Cache: kv.NewMemoryCache(clk, 0), Clock: clk})
	ann := featuretest.Actor(t, st, "ann@example.com")
	_, gran := featuretest.Family(t, st, ann, "UTC")
	ctx := context.Background()
	for i := range 3 {
		cr, m, err := b.CareRecipient(ctx, ann, gran.ID, feature.Admin)
		if err != nil || cr.FullName != "Gran Lee" || len(cr.Allergies) != 0 || m.FamilyID != cr.FamilyID {
			t.Fatalf("read %d: care recipient %+v, membership %+v, %v", i, cr, m, err)
		}
		cr.FullName = "Changed by a reader"
		cr.Allergies = append(cr.Allergies, "changed by a reader")
	}
}

// Zones are loaded once and kept; a name that is no zone is an error.
func TestLocationKeepsZones(t *testing.T) {
	t.Parallel()
	b := feature.New(feature.Deps{})
	first, err := b.Location("Asia/Tokyo")
	if err != nil || first.String() != "Asia/Tokyo" {
		t.Fatalf("Location(Asia/Tokyo) = %v, %v", first, err)
	}
	if again, err := b.Location("Asia/Tokyo"); err != nil || again != first {
		t.Fatalf("second Location(Asia/Tokyo) = %p, %v; want the same zone %p", again, err, first)
	}
	if _, err := b.Location("Mars/Olympus_Mons"); err == nil {
		t.Fatal("Location(Mars/Olympus_Mons) succeeded")
	}
}
