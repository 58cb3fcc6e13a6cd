package api

import (
	"context"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// timelineMatrix covers every timeline and family activity route. Entries
// to read, edit or delete are written straight to the store, by the
// CAREGIVER or by the ADMIN, so the edit rule (author or ADMIN, never a
// VIEWER) shows in the rows.
func timelineMatrix() []matrixCase {
	entryBy := func(author func(f *fixture) testUser, body any) func(f *fixture) (string, any) {
		return func(f *fixture) (string, any) {
			f.t.Helper()
			id := author(f).ID
			e, err := f.h.store.CreateTimelineEntry(context.Background(), care.TimelineEntry{
				CareRecipientID: f.CareRecipientID, CreatedByID: &id, Type: care.TimelineNote, Title: "Walked outside",
				OccurredAt: testStart.Add(-time.Hour),
			})
			if err != nil {
				f.t.Fatal(err)
			}
			return "/timeline/" + e.ID, body
		}
	}
	// The same routes under the care recipient.
	nested := func(build func(f *fixture) (string, any)) func(f *fixture) (string, any) {
		return func(f *fixture) (string, any) {
			p, body := build(f)
			return "/care-recipients/" + f.CareRecipientID + p, body
		}
	}
	byCaregiver := func(f *fixture) testUser { return f.caregiver }
	byAdmin := func(f *fixture) testUser { return f.admin }
	const base = "/care-recipients/%s/timeline"
	create := map[string]any{"type": "VITALS", "title": "Pulse", "severity": "HIGH", "vitals": map[string]any{"heartRate": 80}}
	edit := map[string]any{"title": "Walked in the park"}
	// The author (the CAREGIVER here) or an ADMIN.
	authorOrAdmin := statuses{401, 403, 403, 200, 200}
	return []matrixCase{
		{"create entry", "POST", withBody(create, base, careRecipientID), nonViewer(201)},
		{"list timeline", "GET", path(base+"?type=NOTE&limit=10", careRecipientID), member(200)},
		{"vitals history", "GET", path(base+"/vitals?days=7", careRecipientID), member(200)},
		{"incidents", "GET", path(base+"/incidents", careRecipientID), member(200)},
		{"get entry", "GET", entryBy(byCaregiver, nil), member(200)},
		{"edit own entry", "PATCH", entryBy(byCaregiver, edit), authorOrAdmin},
		{"edit admin's entry", "PATCH", entryBy(byAdmin, edit), adminOnly(200)},
		{"delete own entry", "DELETE", entryBy(byCaregiver, nil), authorOrAdmin},
		{"delete admin's entry", "DELETE", entryBy(byAdmin, nil), adminOnly(200)},
		{"get entry (nested)", "GET", nested(entryBy(byCaregiver, nil)), member(200)},
		{"edit own entry (nested)", "PATCH", nested(entryBy(byCaregiver, edit)), authorOrAdmin},
		{"edit admin's entry (nested)", "PATCH", nested(entryBy(byAdmin, edit)), adminOnly(200)},
		{"delete own entry (nested)", "DELETE", nested(entryBy(byCaregiver, nil)), authorOrAdmin},
		{"delete admin's entry (nested)", "DELETE", nested(entryBy(byAdmin, nil)), adminOnly(200)},
		{"family activity", "GET", path("/families/%s/activity?limit=5", familyID), member(200)},
	}
}

func TestPermissionMatrixTimeline(t *testing.T) {
	t.Parallel()
	runMatrix(t, timelineMatrix())
}
