package store

import (
	"strings"
	"testing"
)

// TestActiveSessionColumns: the joined session-and-user columns are the
// session's then the user's, in the order their scan functions read them.
func TestActiveSessionColumns(t *testing.T) {
	want := prefixed("s.", sessionColumns) + ", " + prefixed("u.", userColumns)
	if got := strings.Join(strings.Fields(activeSessionColumns), " "); got != want {
		t.Fatalf("activeSessionColumns =\n%s\nwant\n%s", got, want)
	}
}
