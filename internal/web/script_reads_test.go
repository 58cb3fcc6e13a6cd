package web

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/carecircle/carecircle/internal/events"
)

// The page scripts name a realtime message's data d, and nothing else d.
// Every read of d.x (or d.x.y, d.x?.y) sits under the message names it is
// for — a `case 'name':` label or an `event === 'name'` test — and x must
// be a field of the data the event catalog gives every event sent under
// that name. A script that reads a field no event carries fails here.
func TestScriptsReadOnlyFieldsTheirEventsCarry(t *testing.T) {
	t.Parallel()
	fields := messageFields()
	files, err := filepath.Glob(filepath.Join("static", "js", "*.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	reads := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range dataReads(string(src)) {
			reads++
			where := filepath.Base(path) + ":" + strconv.Itoa(r.line)
			if len(r.names) == 0 {
				t.Errorf("%s reads d.%s outside a case or test naming its realtime message", where, r.field)
				continue
			}
			for _, name := range r.names {
				have, known := fields[name]
				switch {
				case !known:
					t.Errorf("%s: %q is no realtime message of the event catalog", where, name)
				case !slices.Contains(have, r.field):
					t.Errorf("%s reads d.%s of %s, which none of its events carries (fields: %s)", where, r.field, name, strings.Join(have, ", "))
				}
			}
		}
	}
	if reads == 0 {
		t.Fatal("found no reads of d.x in the scripts")
	}
}

// The parser below finds what it should: the reads of live.js's toasts and
// of a script like emergency.js, and reads outside any message.
func TestDataReadsParser(t *testing.T) {
	t.Parallel()
	src := `
function describe(event, d) {
  switch (event) {
    case 'a_one': return d.title; // d.notThis
    case 'b_two':
    case 'c_three': return ` + "`${d.givenBy?.fullName} ${d.name.trim()}`" + `;
    default: return d.stray;
  }
}
onEvent((event, d) => {
  if (event === 'x_one' || event === 'y_two') { use(d.id); }
  else if (event === 'z') { use(msg.d.ignored, d.other); }
});`
	got := dataReads(src)
	want := []dataRead{
		{line: 4, field: "title", names: []string{"a_one"}},
		{line: 6, field: "givenBy.fullName", names: []string{"b_two", "c_three"}},
		{line: 6, field: "name", names: []string{"b_two", "c_three"}},
		{line: 7, field: "stray"},
		{line: 11, field: "id", names: []string{"x_one", "y_two"}},
		{line: 12, field: "other", names: []string{"z"}},
	}
	if len(got) != len(want) {
		t.Fatalf("reads %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].line != want[i].line || got[i].field != want[i].field || !slices.Equal(got[i].names, want[i].names) {
			t.Errorf("read %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// messageFields maps each realtime message name to the data fields every
// event sent under it carries; the member's own messages carry the member
// event's data with its family id.
func messageFields() map[string][]string {
	byName := map[string][][]string{}
	for _, s := range events.Catalog() {
		if s.Realtime.Name == "" {
			continue
		}
		byName[s.Realtime.Name] = append(byName[s.Realtime.Name], s.Fields())
		switch s.Realtime.To {
		case events.ToRemovedMember:
			byName["you_were_removed"] = append(byName["you_were_removed"], s.Fields())
		case events.ToRoleChangedMember:
			byName["your_role_changed"] = append(byName["your_role_changed"], s.Fields())
		}
	}
	out := map[string][]string{}
	for name, sets := range byName {
		common := sets[0]
		for _, set := range sets[1:] {
			common = slices.DeleteFunc(slices.Clone(common), func(f string) bool { return !slices.Contains(set, f) })
		}
		out[name] = common
	}
	return out
}

type dataRead struct {
	line  int
	field string   // "x" or "x.y"
	names []string // the realtime messages it is read for
}

var (
	lineComment = regexp.MustCompile(`(?m)(^|[ \t])//.*$`)
	token       = regexp.MustCompile(`case\s+'([a-z_]+)'\s*:|event\s*===\s*'([a-z_]+)'|default\s*:|\bd((?:\??\.[A-Za-z_$][\w$]*)+)(\s*\()?`)
	joiner      = regexp.MustCompile(`^[\s|()]*$`)
)

// dataReads lists the reads of d.x in a script with the message names
// of the case labels or event tests they follow. Consecutive labels (or
// tests joined by ||) add up; code between two starts a new group, and
// default: ends it.
func dataReads(src string) []dataRead {
	src = lineComment.ReplaceAllStringFunc(src, func(m string) string {
		// Keep the line count; only the comment goes.
		return strings.Repeat(" ", len(m))
	})
	var out []dataRead
	var names []string
	lastMarker := -1
	for _, m := range token.FindAllStringSubmatchIndex(src, -1) {
		start, end := m[0], m[1]
		name := ""
		switch {
		case m[2] >= 0:
			name = src[m[2]:m[3]]
		case m[4] >= 0:
			name = src[m[4]:m[5]]
		case m[6] >= 0: // a read
			if start > 0 && (src[start-1] == '.' || src[start-1] == '$' || isWord(src[start-1])) {
				continue
			}
			path := strings.Split(strings.ReplaceAll(src[m[6]+1:m[7]], "?.", "."), ".")
			if m[8] >= 0 && len(path) > 0 { // a method call: d.x.trim()
				path = path[:len(path)-1]
			}
			if len(path) == 0 {
				continue
			}
			if len(path) > 2 {
				path = path[:2]
			}
			out = append(out, dataRead{line: 1 + strings.Count(src[:start], "\n"), field: strings.Join(path, "."), names: slices.Clone(names)})
			lastMarker = -1
			continue
		default: // default:
			names, lastMarker = nil, -1
			continue
		}
		if lastMarker < 0 || !joiner.MatchString(src[lastMarker:start]) {
			names = nil
		}
		names = append(names, name)
		lastMarker = end
	}
	return out
}

func isWord(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}
