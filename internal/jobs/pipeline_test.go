package jobs

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify/notifytest"
	"github.com/carecircle/carecircle/internal/storage"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestJobNotificationsGoThroughThePipeline: the reminders the engine
// delivers inline and the document expiry notices go through the
// notification pipeline: each notification is announced by exactly one
// event with a realtime message, none goes to a member who turned its kind
// off, and the commit that wrote them wakes the outbox dispatcher.
func TestJobNotificationsGoThroughThePipeline(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-03-03T07:00:00Z")
		r := newRig(t, open, start, "UTC", "08:00")
		ctx := context.Background()
		woken := make(chan struct{}, 1)
		r.st.OnEventsCommitted(func() {
			select {
			case woken <- struct{}{}:
			default:
			}
		})
		viewer := r.others[1]
		off := care.DefaultNotificationPreferences()
		off.MedicationReminders = false
		raw, err := care.WithNotificationPreferences(nil, off)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.st.UpdateUser(ctx, viewer.ID, store.UserPatch{Preferences: raw}); err != nil {
			t.Fatal(err)
		}
		low := 3
		if _, err := r.st.UpdateMedication(ctx, r.med.ID, func(m *care.Medication) error { m.CurrentSupply = &low; return nil }); err != nil {
			t.Fatal(err)
		}

		r.run(start, mustTime("2026-03-03T09:05:00Z"))
		select {
		case <-woken:
		default:
			t.Fatal("reminders delivered inline did not wake the dispatcher")
		}

		files, err := storage.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { files.Close() })
		d := &docRig{rig: r, files: files, docs: NewDocuments(DocumentsConfig{Store: r.st, Files: files, Clock: r.clk, Logger: quietLogger()})}
		doc := d.upload("card", "application/pdf", []byte(threePagePDF))
		expires := r.clk.Now().Add(10 * 24 * time.Hour)
		if _, err := r.st.UpdateDocument(ctx, doc.ID, func(d *store.Document) error { d.ExpiresAt = &expires; return nil }); err != nil {
			t.Fatal(err)
		}
		if n, err := d.docs.RemindExpiring(ctx, r.clk.Now()); err != nil || n != 1 {
			t.Fatalf("expiry notices: %d, %v", n, err)
		}

		rows := notifytest.Audit(t, r.st)
		types := notifytest.Types(rows)
		for _, want := range []care.NotificationType{care.NotifyMedicationReminder, care.NotifyMedicationMissed,
			care.NotifyRefillAlert, NotifyDocumentExpiring} {
			if !slices.Contains(types, string(want)) {
				t.Errorf("no %s among %v", want, types)
			}
		}
		if got := r.reminders(viewer, care.NotifyMedicationReminder); len(got) != 0 {
			t.Fatalf("the viewer turned medication reminders off and got %d", len(got))
		}
		if got := r.reminders(r.others[0], care.NotifyMedicationReminder); len(got) == 0 {
			t.Fatal("the caregiver got no medication reminder")
		}
	})
}
