package realtime

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
)

// Every change to a timeline entry reaches clients as timeline_entry, with
// an action that tells a new entry from an edit and a removal, and the
// entry's own fields intact.
func TestTimelineEventsCarryTheirAction(t *testing.T) {
	t.Parallel()
	for typ, action := range map[string]string{
		"timeline.entry.created": "created", "timeline.entry.updated": "updated", "timeline.entry.deleted": "deleted",
	} {
		r, ok := route(typ)
		if !ok || r.Name != "timeline_entry" || r.Action != action || r.To != events.ToRooms {
			t.Errorf("%s routes as %+v", typ, r)
			continue
		}
		e, err := events.NewEvent(clock.NewFake(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)), typ,
			map[string]any{"id": "e1", "title": "Fell in the garden"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := encode(r.Name, e, map[string]string{"action": r.Action})
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Event string         `json:"event"`
			Data  map[string]any `json:"data"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if m.Event != "timeline_entry" || m.Data["action"] != action || m.Data["title"] != "Fell in the garden" || m.Data["id"] != "e1" {
			t.Errorf("%s encodes as %s", typ, b)
		}
	}
}
