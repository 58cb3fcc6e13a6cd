package store_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestAuditLogFiltersAndPages(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		ann, bo := "0190f000-0000-7000-8000-00000000000a", "0190f000-0000-7000-8000-00000000000b"
		str := func(v string) *string { return &v }
		for i, e := range []store.AuditEntry{
			{ActorID: &ann, Action: "POST /families", ResourceType: str("family"), IP: str("203.0.113.7"), UserAgent: str("ua/1"), Status: 201},
			{ActorID: &bo, Action: "PATCH /families/{familyId}", FamilyID: str(ann), Status: 200, Details: json.RawMessage(`{"requestId":"r1"}`)},
			{ActorID: &ann, Action: "PATCH /families/{familyId}", Status: 200},
			{Action: "emergency-info.read", ResourceType: str(""), Status: 200},
		} {
			if i > 0 {
				clk.Advance(time.Minute)
			}
			got, err := s.AppendAudit(ctx, e)
			if err != nil {
				t.Fatal(err)
			}
			if got.ID == "" || !got.At.Equal(clk.Now().UTC().Truncate(time.Microsecond)) {
				t.Fatalf("appended %+v", got)
			}
		}
		all, total, err := s.AuditLog(ctx, store.AuditQuery{})
		if err != nil || total != 4 || len(all) != 4 {
			t.Fatalf("all: %d of %d, %v", len(all), total, err)
		}
		if all[0].Action != "emergency-info.read" || all[0].ActorID != nil || all[0].ResourceType != nil {
			t.Fatalf("newest first, blanks as null: %+v", all[0])
		}
		first := all[3]
		if *first.ActorID != ann || *first.IP != "203.0.113.7" || *first.UserAgent != "ua/1" || first.Status != 201 ||
			string(first.Details) != "{}" {
			t.Fatalf("oldest %+v", first)
		}
		if string(all[2].Details) == "{}" || *all[2].FamilyID != ann {
			t.Fatalf("details and family kept: %+v", all[2])
		}

		byAnn, total, err := s.AuditLog(ctx, store.AuditQuery{ActorID: ann})
		if err != nil || total != 2 || len(byAnn) != 2 {
			t.Fatalf("by actor: %d of %d, %v", len(byAnn), total, err)
		}
		byAction, total, _ := s.AuditLog(ctx, store.AuditQuery{Action: "PATCH /families/{familyId}", Limit: 1, Offset: 1})
		if total != 2 || len(byAction) != 1 || *byAction[0].ActorID != bo {
			t.Fatalf("by action, second page: %+v of %d", byAction, total)
		}
		from, to := t0.Add(time.Minute), t0.Add(3*time.Minute)
		window, total, _ := s.AuditLog(ctx, store.AuditQuery{From: &from, To: &to})
		if total != 2 || len(window) != 2 {
			t.Fatalf("from..to: %d of %d", len(window), total)
		}
	})
}

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		if _, err := s.AppendAudit(ctx, store.AuditEntry{Action: "POST /families", Status: 201}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`UPDATE audit_log SET action = 'nothing happened'`,
			`DELETE FROM audit_log`,
		} {
			if _, err := s.DB().ExecContext(ctx, q); err == nil {
				t.Errorf("%s: allowed", q)
			}
		}
		if s.Dialect() == store.Postgres {
			if _, err := s.DB().ExecContext(ctx, `TRUNCATE audit_log`); err == nil {
				t.Error("TRUNCATE allowed")
			}
		}
		list, total, err := s.AuditLog(ctx, store.AuditQuery{})
		if err != nil || total != 1 || list[0].Action != "POST /families" {
			t.Fatalf("log changed: %+v, %v", list, err)
		}
	})
}
