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
