package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// timelineWorld is a family with one care recipient and a second one, to
// check that lists never mix care recipients.
type timelineWorld struct {
	s         *store.Store
	clk       *clock.Fake
	admin     *care.User
	fam       *care.Family
	cr, other *care.CareRecipient
}

func newTimelineWorld(t *testing.T, open openFunc) *timelineWorld {
	t.Helper()
	ctx := context.Background()
	w := &timelineWorld{clk: clock.NewFake(t0)}
	w.s = open(t, w.clk)
	w.admin = newUser(t, w.s, "ann@example.com")
	w.fam = newFamily(t, w.s, "Lees", w.admin)
	var err error
	if w.cr, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.fam.ID, FullName: "Gran", Timezone: "Asia/Tokyo"}); err != nil {
		t.Fatal(err)
	}
	if w.other, err = w.s.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: w.fam.ID, FullName: "Grandpa", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	return w
}

// entry records an entry about cr by the admin, occurred at, of typ.
func (w *timelineWorld) entry(t *testing.T, cr *care.CareRecipient, typ care.TimelineType, title string, at time.Time, mod ...func(*care.TimelineEntry)) *care.TimelineEntry {
	t.Helper()
	e := care.TimelineEntry{CareRecipientID: cr.ID, CreatedByID: &w.admin.ID, Type: typ, Title: title, OccurredAt: at}
	for _, m := range mod {
		m(&e)
	}
	out, err := w.s.CreateTimelineEntry(context.Background(), e)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func entrySeverity(s care.Severity) func(*care.TimelineEntry) {
	return func(e *care.TimelineEntry) { e.Severity = &s }
}

func entryVitals(v care.Vitals) func(*care.TimelineEntry) {
	return func(e *care.TimelineEntry) { e.Vitals = &v }
}

func entryIDs(es []care.TimelineEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func timelineIDs(es ...*care.TimelineEntry) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func TestTimelineEntryLifecycle(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newTimelineWorld(t, open)
		ctx := context.Background()
		hr, temp, unit := 72, 37.5, "C"
		bp := "120/80"
		at := t0.Add(-2 * time.Hour).Truncate(time.Microsecond)
		e := w.entry(t, w.cr, care.TimelineVitals, sqlish, at, entrySeverity(care.SeverityMedium),
			entryVitals(care.Vitals{HeartRate: &hr, Temperature: &temp, TemperatureUnit: &unit, BloodPressure: &bp}),
			func(e *care.TimelineEntry) {
				e.Description = strp(sqlish)
				e.Attachments = []string{"https://example.com/a.jpg"}
			})
		now := t0.Truncate(time.Microsecond)
		if e.ID == "" || e.CareRecipientID != w.cr.ID || e.Type != care.TimelineVitals || e.Title != sqlish ||
			*e.Description != sqlish || *e.Severity != care.SeverityMedium || !e.OccurredAt.Equal(at) ||
			!e.CreatedAt.Equal(now) || !e.UpdatedAt.Equal(now) || e.CreatedBy == nil ||
			e.CreatedBy.FullName != w.admin.FullName || *e.CreatedByID != w.admin.ID ||
			!slices.Equal(e.Attachments, []string{"https://example.com/a.jpg"}) {
			t.Fatalf("created entry = %+v", e)
		}
		if e.Vitals == nil || *e.Vitals.HeartRate != 72 || *e.Vitals.Temperature != 37.5 ||
			*e.Vitals.TemperatureUnit != "C" || *e.Vitals.BloodPressure != "120/80" || e.Vitals.OxygenLevel != nil {
			t.Fatalf("vitals = %+v", e.Vitals)
		}
		got, err := w.s.TimelineEntry(ctx, e.ID)
		if err != nil || got.Title != sqlish || *got.Vitals.HeartRate != 72 {
			t.Fatalf("TimelineEntry = %+v, %v", got, err)
		}

		// An entry without vitals or attachments reads back with none.
		plain := w.entry(t, w.cr, care.TimelineNote, "Slept well", at)
		if plain.Vitals != nil || plain.Attachments == nil || len(plain.Attachments) != 0 || plain.Severity != nil {
			t.Fatalf("plain entry = %+v", plain)
		}

		w.clk.Advance(time.Minute)
		up, err := w.s.UpdateTimelineEntry(ctx, e.ID, func(e *care.TimelineEntry) error {
			e.Title, e.Vitals, e.Severity, e.Attachments = "Evening vitals", nil, nil, nil
			return nil
		})
		if err != nil || up.Title != "Evening vitals" || up.Vitals != nil || up.Severity != nil ||
			len(up.Attachments) != 0 || !up.UpdatedAt.Equal(now.Add(time.Minute)) || !up.CreatedAt.Equal(now) {
			t.Fatalf("updated = %+v, %v", up, err)
		}
		refused := errors.New("refused")
		if _, err := w.s.UpdateTimelineEntry(ctx, e.ID, func(e *care.TimelineEntry) error {
			e.Title = "not kept"
			return refused
		}); !errors.Is(err, refused) {
			t.Fatalf("refused edit = %v", err)
		}
		if got, _ := w.s.TimelineEntry(ctx, e.ID); got.Title != "Evening vitals" {
			t.Fatalf("a refused edit was written: %q", got.Title)
		}

		if err := w.s.DeleteTimelineEntry(ctx, e.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.TimelineEntry(ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleted entry read = %v", err)
		}
		if err := w.s.DeleteTimelineEntry(ctx, e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second delete = %v", err)
		}
		if _, err := w.s.UpdateTimelineEntry(ctx, e.ID, func(*care.TimelineEntry) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("update of a deleted entry = %v", err)
		}
		const missing = "0190f000-0000-7000-8000-000000000000"
		if _, err := w.s.CreateTimelineEntry(ctx, care.TimelineEntry{CareRecipientID: missing, Type: care.TimelineNote,
			Title: "x", OccurredAt: at}); !errors.Is(err, store.ErrReference) {
			t.Fatalf("entry of a missing care recipient = %v", err)
		}
	})
}

func TestTimelineListsFilterAndPage(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newTimelineWorld(t, open)
		ctx := context.Background()
		day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
		hr := 80
		n1 := w.entry(t, w.cr, care.TimelineNote, "note 1", day(1))
		v2 := w.entry(t, w.cr, care.TimelineVitals, "vitals 2", day(2), entryVitals(care.Vitals{HeartRate: &hr}))
		i3 := w.entry(t, w.cr, care.TimelineIncident, "fall 3", day(3), entrySeverity(care.SeverityLow))
		m4 := w.entry(t, w.cr, care.TimelineMood, "mood 4", day(4), entrySeverity(care.SeverityCritical))
		s5 := w.entry(t, w.cr, care.TimelineSymptom, "cough 5", day(5), entrySeverity(care.SeverityHigh),
			entryVitals(care.Vitals{HeartRate: &hr}))
		n6 := w.entry(t, w.cr, care.TimelineNote, "note 6", day(6), entrySeverity(care.SeverityMedium))
		// Same instant as n6, written later: listed before it.
		n6b := w.entry(t, w.cr, care.TimelineNote, "note 6b", day(6))
		w.entry(t, w.other, care.TimelineIncident, "elsewhere", day(3), entrySeverity(care.SeverityCritical),
			entryVitals(care.Vitals{HeartRate: &hr}))

		list := func(f store.TimelineFilter) []string {
			t.Helper()
			es, err := w.s.TimelineEntries(ctx, w.cr.ID, f)
			if err != nil {
				t.Fatal(err)
			}
			return entryIDs(es)
		}
		all := timelineIDs(n6b, n6, s5, m4, i3, v2, n1)
		if got := list(store.TimelineFilter{}); !slices.Equal(got, all) {
			t.Fatalf("all = %v, want %v", got, all)
		}
		if got := list(store.TimelineFilter{Limit: 3}); !slices.Equal(got, all[:3]) {
			t.Fatalf("first page = %v", got)
		}
		if got := list(store.TimelineFilter{Limit: 3, Offset: 3}); !slices.Equal(got, all[3:6]) {
			t.Fatalf("second page = %v", got)
		}
		if got := list(store.TimelineFilter{Offset: 5}); !slices.Equal(got, all[5:]) {
			t.Fatalf("offset without limit = %v", got)
		}
		if got := list(store.TimelineFilter{Limit: 3, Offset: 30}); len(got) != 0 {
			t.Fatalf("page past the end = %v", got)
		}
		if got := list(store.TimelineFilter{Types: []care.TimelineType{care.TimelineNote}}); !slices.Equal(got, timelineIDs(n6b, n6, n1)) {
			t.Fatalf("notes = %v", got)
		}
		if got := list(store.TimelineFilter{Types: []care.TimelineType{care.TimelineVitals, care.TimelineIncident}}); !slices.Equal(got, timelineIDs(i3, v2)) {
			t.Fatalf("vitals and incidents = %v", got)
		}
		from, to := day(2), day(5)
		if got := list(store.TimelineFilter{From: &from, To: &to}); !slices.Equal(got, timelineIDs(m4, i3, v2)) {
			t.Fatalf("[day 2, day 5) = %v", got)
		}
		if got := list(store.TimelineFilter{From: &to}); !slices.Equal(got, timelineIDs(n6b, n6, s5)) {
			t.Fatalf("from day 5 = %v", got)
		}

		inc, err := w.s.TimelineIncidents(ctx, w.cr.ID, 0, 0)
		if err != nil || !slices.Equal(entryIDs(inc), timelineIDs(s5, m4, i3)) {
			t.Fatalf("incidents = %v, %v", entryIDs(inc), err)
		}
		if inc, _ := w.s.TimelineIncidents(ctx, w.cr.ID, 1, 1); !slices.Equal(entryIDs(inc), timelineIDs(m4)) {
			t.Fatalf("incidents page = %v", entryIDs(inc))
		}

		hist, err := w.s.VitalsHistory(ctx, w.cr.ID, day(1), 0)
		if err != nil || !slices.Equal(entryIDs(hist), timelineIDs(v2, s5)) {
			t.Fatalf("vitals history = %v, %v", entryIDs(hist), err)
		}
		if hist, _ := w.s.VitalsHistory(ctx, w.cr.ID, day(3), 0); !slices.Equal(entryIDs(hist), timelineIDs(s5)) {
			t.Fatalf("vitals since day 3 = %v", entryIDs(hist))
		}
		if hist, _ := w.s.VitalsHistory(ctx, w.cr.ID, day(1), 1); !slices.Equal(entryIDs(hist), timelineIDs(v2)) {
			t.Fatalf("vitals limited = %v", entryIDs(hist))
		}
	})
}

// An author who deletes their account leaves the entry without an author.
func TestTimelineEntryOutlivesItsAuthor(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		w := newTimelineWorld(t, open)
		ctx := context.Background()
		bob := newUser(t, w.s, "bob@example.com")
		e, err := w.s.CreateTimelineEntry(ctx, care.TimelineEntry{CareRecipientID: w.cr.ID, CreatedByID: &bob.ID,
			Type: care.TimelineNote, Title: "by Bob", OccurredAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.s.DB().ExecContext(ctx, `DELETE FROM users WHERE id = $1`, bob.ID); err != nil {
			t.Fatal(err)
		}
		got, err := w.s.TimelineEntry(ctx, e.ID)
		if err != nil || got.CreatedByID != nil || got.CreatedBy != nil || got.Title != "by Bob" {
			t.Fatalf("entry after its author left = %+v, %v", got, err)
		}
	})
}
