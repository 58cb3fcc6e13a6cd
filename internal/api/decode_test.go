package api

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

// sampleBody exercises every decoding feature the request bodies use.
type sampleBody struct {
	Name     string             `json:"name"`
	Email    string             `json:"email"`
	Count    int                `json:"count"`
	Tags     []string           `json:"tags"`
	Zone     Optional[string]   `json:"timezone"`
	Phone    Optional[string]   `json:"phone"`
	Nested   *struct{ A int }   `json:"nested"`
	Flags    map[string]bool    `json:"flags"`
	Minutes  Optional[[]int]    `json:"minutes"`
	Children []sampleBodyNested `json:"children"`
}

type sampleBodyNested struct {
	ID string `json:"id"`
}

func (b *sampleBody) Validate(p Problems) {
	b.Name = p.text("name", b.Name, 100)
	b.Email = p.email("email", b.Email)
	if b.Zone.Set {
		if b.Zone.Null {
			p.Add("timezone", "must not be null")
		} else {
			p.timezone("timezone", b.Zone.Value)
		}
	}
	b.Phone.Value = deref(p.phone("phone", b.Phone.Ptr()))
	for _, c := range b.Children {
		p.uuidField("children.id", c.ID)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func decodeString(t testing.TB, body string) error {
	r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	var b sampleBody
	return decode(httptest.NewRecorder(), r, &b)
}

func TestDecodeRejectsBadBodies(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		body   string
		status int
		field  string
	}{
		"empty":           {``, 400, ""},
		"malformed":       {`{"name":`, 400, ""},
		"not object":      {`[1,2]`, 400, ""},
		"unknown field":   {`{"name":"a","email":"a@b.co","admin":true}`, 400, "admin"},
		"wrong type":      {`{"name":5,"email":"a@b.co"}`, 400, "name"},
		"two values":      {`{"name":"a","email":"a@b.co"}{}`, 400, ""},
		"missing name":    {`{"email":"a@b.co"}`, 400, "name"},
		"bad email":       {`{"name":"a","email":"nope"}`, 400, "email"},
		"bad zone":        {`{"name":"a","email":"a@b.co","timezone":"Mars/Olympus"}`, 400, "timezone"},
		"null zone":       {`{"name":"a","email":"a@b.co","timezone":null}`, 400, "timezone"},
		"control chars":   {`{"name":"a\u0000b","email":"a@b.co"}`, 400, "name"},
		"too long":        {`{"name":"` + strings.Repeat("x", 101) + `","email":"a@b.co"}`, 400, "name"},
		"bad nested uuid": {`{"name":"a","email":"a@b.co","children":[{"id":"1"}]}`, 400, "children.id"},
		"huge":            {`{"name":"` + strings.Repeat("x", maxBodyBytes) + `"}`, 413, ""},
		"invalid utf8":    {"{\"name\":\"\xff\",\"email\":\"a@b.co\"}", 400, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := decodeString(t, tc.body)
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status {
				t.Fatalf("err = %v, want status %d", err, tc.status)
			}
			if tc.field != "" {
				if _, ok := e.Fields[tc.field]; !ok {
					t.Fatalf("fields = %v, want %q", e.Fields, tc.field)
				}
				if !strings.HasPrefix(e.Message, "Validation failed for: ") {
					t.Fatalf("message = %q", e.Message)
				}
			}
		})
	}
}

// TestDecodeReportsEveryProblem: an unknown or mistyped field does not hide
// the body's other problems.
func TestDecodeReportsEveryProblem(t *testing.T) {
	t.Parallel()
	for body, want := range map[string][]string{
		`{"admin":true,"colour":"red"}`:                               {"admin", "colour", "email", "name"},
		`{"name":5,"count":"x","email":"nope","timezone":null}`:       {"count", "email", "name", "timezone"},
		`{"NAME":"Ann","email":"a@b.co","extra":1}`:                   {"extra"},
		`{"name":"a","email":"a@b.co","children":[{"id":"1","x":2}]}`: {"children.id", "children.x"},
	} {
		var e *Error
		if err := decodeString(t, body); !errors.As(err, &e) || e.Status != 400 {
			t.Fatalf("%s: err = %v", body, err)
		}
		got := make([]string, 0, len(e.Fields))
		for f := range e.Fields {
			got = append(got, f)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: fields %v, want %v (%v)", body, got, want, e.Fields)
		}
		if e.Fields["name"] != nil && strings.Contains(body, `"name":5`) && len(e.Fields["name"]) != 1 {
			t.Errorf("%s: a mistyped field has other reasons too: %v", body, e.Fields["name"])
		}
	}
}

func TestDecodeAcceptsAndTrims(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/x", strings.NewReader(`{"name":"  Ann  ","email":" Ann@Example.COM ","timezone":"Asia/Tokyo","phone":null}`))
	var b sampleBody
	if err := decode(httptest.NewRecorder(), r, &b); err != nil {
		t.Fatal(err)
	}
	if b.Name != "Ann" || b.Email != "ann@example.com" || !b.Zone.Set || b.Zone.Value != "Asia/Tokyo" || !b.Phone.Null {
		t.Fatalf("decoded %+v", b)
	}
}

func TestDecodeRefusesOtherContentTypes(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/x", strings.NewReader(`{"name":"a","email":"a@b.co"}`))
	r.Header.Set("Content-Type", "text/plain")
	var b sampleBody
	var e *Error
	if err := decode(httptest.NewRecorder(), r, &b); !errors.As(err, &e) || e.Status != http.StatusUnsupportedMediaType {
		t.Fatalf("err = %v", err)
	}
}

// FuzzDecode feeds arbitrary bodies to the decoder: it must never panic and
// must answer either success or a client error.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"name":"Ann","email":"a@b.co"}`, `{"name":"a","email":"a@b.co","timezone":"Asia/Tokyo","minutes":[1,2]}`,
		`{"nested":{"A":1},"flags":{"x":true}}`, `{"children":[{"id":"` + "00000000-0000-0000-0000-000000000000" + `"}]}`,
		`{"name":"'; DROP TABLE users; --","email":"x@y.zz"}`, `null`, `[]`, `"x"`, `{"phone":"+1 (555) 010-0000"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		err := decodeString(t, body)
		if err == nil {
			return
		}
		var e *Error
		if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 {
			t.Fatalf("body %q: err = %v, want a 4xx *Error", body, err)
		}
	})
}
