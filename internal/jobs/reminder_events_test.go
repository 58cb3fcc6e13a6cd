package jobs

import (
	"context"
	"slices"
	"testing"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// Reminder events decode into their catalog structs: a shift reminder names
// the shift's caregiver (whose channel alone hears of it), a dose reminder
// the medication by its name.
func TestReminderEventsCarryWhatTheirCatalogStructsSay(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		start := mustTime("2026-01-15T06:00:00Z")
		r := newRig(t, open, start, "Europe/Berlin", "08:00")
		carer := r.others[0]
		if _, err := r.st.CreateShift(context.Background(), store.NewShift{CareRecipientID: r.cr.ID, CaregiverID: carer.ID,
			StartTime: mustTime("2026-01-15T09:00:00Z"), EndTime: mustTime("2026-01-15T13:00:00Z"), CreatedByID: r.admin.ID}); err != nil {
			t.Fatal(err)
		}
		r.run(start, mustTime("2026-01-15T08:00:00Z"))
		got := outboxEvents(t, r.st)
		if len(got[events.ShiftReminder]) == 0 || len(got[events.MedicationReminder]) == 0 {
			t.Fatalf("no shift or dose reminder events: %v", got)
		}
		for _, e := range got[events.ShiftReminder] {
			v, err := events.DecodeData(e.Event)
			if err != nil {
				t.Fatal(err)
			}
			d := v.(*events.ShiftReminderData)
			if d.CaregiverID != carer.ID || !slices.Equal(d.AddressedTo(), []string{carer.ID}) || !slices.Equal(d.UserIDs, []string{carer.ID}) {
				t.Fatalf("shift reminder addressed to %v, notified %v; want the caregiver %s", d.AddressedTo(), d.UserIDs, carer.ID)
			}
		}
		for _, e := range got[events.MedicationReminder] {
			v, err := events.DecodeData(e.Event)
			if err != nil {
				t.Fatal(err)
			}
			if d := v.(*events.DoseReminderData); d.MedicationName != r.med.Name || d.MedicationID != r.med.ID {
				t.Fatalf("dose reminder names %q (%s), want %q", d.MedicationName, d.MedicationID, r.med.Name)
			}
		}
	})
}
