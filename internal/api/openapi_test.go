package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// openAPISpec is the embedded document, loaded once for every test that
// checks responses against it.
var openAPISpec = sync.OnceValues(func() (*openapi3.T, error) {
	raw, err := openAPIDocument(testPrefix)
	if err != nil {
		return nil, err
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		return nil, fmt.Errorf("load the OpenAPI document: %w", err)
	}
	return doc, nil
})

// openAPIRouteList is the document's operations, listed once.
var openAPIRouteList = sync.OnceValue(func() []docRoute {
	doc, err := openAPISpec()
	if err != nil {
		return nil
	}
	return documentedRoutes(doc)
})

// specFor loads the document or fails the test.
func specFor(t testing.TB) *openapi3.T {
	t.Helper()
	doc, err := openAPISpec()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// TestOpenAPIDocumentIsValid: the served document is OpenAPI 3.1 and valid
// as such, and the page at /api/docs shows it with no inline script or
// style.
func TestOpenAPIDocumentIsValid(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{})
	res := h.request("GET", "/openapi.json", "", nil).expect(200)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q", ct)
	}
	doc, err := openapi3.NewLoader().LoadFromData(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the served document is not valid OpenAPI 3.1: %v", err)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != testPrefix {
		t.Fatalf("servers = %v, want the API prefix", doc.Servers)
	}
	// Every operation says what its errors look like.
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Default() == nil {
				t.Errorf("%s %s has no default (error envelope) response", method, path)
			}
		}
	}

	page := rawGet(t, h, apiDocsPath).expect(200)
	csp := page.Header.Get("Content-Security-Policy")
	if !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("page headers: %v", page.Header)
	}
	body := string(page.Body)
	for _, want := range []string{`href="` + testPrefix + `/openapi.json"`, `src="/api/docs/docs.js"`, `href="/api/docs/docs.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if regexp.MustCompile(`<script>|<style|style="|\son[a-z]+=`).MatchString(body) {
		t.Errorf("page has inline script or style:\n%s", body)
	}
	for file, ct := range map[string]string{"docs.js": "text/javascript", "docs.css": "text/css"} {
		r := rawGet(t, h, apiDocsPath+"/"+file).expect(200)
		if got, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); got != ct {
			t.Errorf("%s: Content-Type %q", file, r.Header.Get("Content-Type"))
		}
	}
	rawGet(t, h, apiDocsPath+"/index.html").errorEnvelope(404)
	rawGet(t, h, apiDocsPath+"/nothing.js").errorEnvelope(404)
}

// rawGet requests a path of the server as it is, outside the API prefix.
func rawGet(t *testing.T, h *harness, path string) *response {
	t.Helper()
	res, err := h.srv.Client().Get(h.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{t: t, Status: res.StatusCode, Header: res.Header, Body: b}
}

// docRoute is one documented operation: its method and path template, as
// the server's patterns spell them (with the prefix where it applies).
type docRoute struct {
	method, path string
	root         bool // served outside the API prefix
}

// documentedRoutes lists the document's operations.
func documentedRoutes(doc *openapi3.T) []docRoute {
	var out []docRoute
	for path, item := range doc.Paths.Map() {
		root := len(item.Servers) > 0 && item.Servers[0].URL == "/"
		for method := range item.Operations() {
			out = append(out, docRoute{method: method, path: path, root: root})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path+out[i].method < out[j].path+out[j].method })
	return out
}

// full is the route's path as served.
func (d docRoute) full() string {
	if d.root {
		return d.path
	}
	return testPrefix + d.path
}

// samplePath fills a path template's parameters with a UUID.
func samplePath(template string) string {
	return regexp.MustCompile(`\{[^}]+\}`).ReplaceAllString(template, noSuchID)
}

// notAPI are the server's patterns that serve pages, not the API.
var notAPI = []string{"GET " + apiDocsPath, "GET " + apiDocsPath + "/{file}"}

// TestOpenAPIRoutesMatchRouter walks the router: every registered route is
// in the document, and every documented operation is routed (a request to
// it reaches a registered pattern of its method).
func TestOpenAPIRoutesMatchRouter(t *testing.T) {
	t.Parallel()
	doc := specFor(t)
	h := sqliteHarness(t, harnessOptions{})
	registered := map[string]bool{}
	for _, p := range h.api.Routes() {
		if !slices.Contains(notAPI, p) {
			registered[p] = false
		}
	}
	for _, d := range documentedRoutes(doc) {
		req, err := http.NewRequest(d.method, h.srv.URL+samplePath(d.full()), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, pattern := h.api.mux.Handler(req)
		if _, ok := registered[pattern]; !ok || !strings.HasPrefix(pattern, d.method+" ") {
			t.Errorf("documented but not routed: %s %s (the router answers with %q)", d.method, d.full(), pattern)
			continue
		}
		registered[pattern] = true
	}
	for p, seen := range registered {
		if !seen {
			t.Errorf("routed but not documented: %s", p)
		}
	}
}

// matchDocPath finds the documented path template of a request path: the
// one whose segments match, literal segments winning over parameters from
// the left, as the router chooses.
func matchDocPath(doc *openapi3.T, path string) (string, *openapi3.PathItem) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	var best string
	var bestItem *openapi3.PathItem
	var bestScore []bool
	for _, d := range openAPIRouteList() {
		full := d.full()
		tsegs := strings.Split(strings.Trim(full, "/"), "/")
		if len(tsegs) != len(segs) {
			continue
		}
		score := make([]bool, len(segs))
		ok := true
		for i, ts := range tsegs {
			if strings.HasPrefix(ts, "{") {
				continue
			}
			if ts != segs[i] {
				ok = false
				break
			}
			score[i] = true
		}
		if !ok || full == best {
			continue
		}
		if bestItem == nil || better(score, bestScore) {
			best, bestItem, bestScore = full, doc.Paths.Value(d.path), score
		}
	}
	return best, bestItem
}

// better reports whether score a (literal segments) is more specific than b.
func better(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i]
		}
	}
	return false
}

// checkOpenAPI fails the test when the response to req does not match the
// schema the document gives for its route and status (the default, error
// envelope, for statuses it does not list), or when a JSON body the server
// accepted (a 2xx answer) does not match the documented request body.
// Responses that are not JSON (the metrics text, downloads) are only checked
// for being documented.
func checkOpenAPI(t testing.TB, req *http.Request, sent []byte, status int, header http.Header, body []byte) {
	t.Helper()
	doc := specFor(t)
	path := req.URL.Path
	if !strings.HasPrefix(path, testPrefix+"/") && !strings.HasPrefix(path, "/health") && path != "/metrics" {
		return
	}
	var op *openapi3.Operation
	template, item := matchDocPath(doc, path)
	if item != nil {
		op = item.GetOperation(req.Method)
	}
	where := req.Method + " " + path
	if op == nil {
		// A CORS preflight is answered before routing, without a body.
		if req.Method == http.MethodOptions && status == http.StatusNoContent {
			return
		}
		// Unrouted paths and methods (or requests refused before routing)
		// answer in the envelope.
		if status < 400 {
			t.Errorf("OpenAPI: %s answered %d but is not documented", where, status)
		}
		checkSchema(t, where, doc.Components.Schemas["Error"].Value, body)
		return
	}
	where = req.Method + " " + template + " → " + fmt.Sprint(status)
	if status < 300 && len(bytes.TrimSpace(sent)) > 0 {
		checkRequestBody(t, where, op, sent)
	}
	if status < 300 {
		checkQuery(t, where, op, req.URL.Query())
	}
	resp := op.Responses.Status(status)
	if resp == nil {
		resp = op.Responses.Default()
	}
	if resp == nil || resp.Value == nil {
		t.Errorf("OpenAPI: %s: status not documented", where)
		return
	}
	if len(body) == 0 && req.Method == http.MethodHead {
		return
	}
	media, _, _ := mime.ParseMediaType(header.Get("Content-Type"))
	mt := resp.Value.Content.Get(media)
	if mt == nil {
		mt = resp.Value.Content.Get("*/*")
	}
	if mt == nil {
		t.Errorf("OpenAPI: %s: Content-Type %q not documented", where, header.Get("Content-Type"))
		return
	}
	if media != "application/json" || mt.Schema == nil {
		return
	}
	checkSchema(t, where, mt.Schema.Value, body)
}

// checkRequestBody validates a body the server accepted against the
// operation's documented JSON request body.
func checkRequestBody(t testing.TB, where string, op *openapi3.Operation, sent []byte) {
	t.Helper()
	if op.RequestBody == nil || op.RequestBody.Value == nil {
		t.Errorf("OpenAPI: %s: the server accepted a body the document does not describe: %.200s", where, sent)
		return
	}
	mt := op.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return
	}
	checkSchema(t, where+" (request)", mt.Schema.Value, sent)
}

// checkQuery fails when a request the server answered with success used a
// query parameter the operation does not document.
func checkQuery(t testing.TB, where string, op *openapi3.Operation, q url.Values) {
	t.Helper()
	for name := range q {
		if p := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, name); p == nil {
			t.Errorf("OpenAPI: %s: query parameter %q is not documented", where, name)
		}
	}
}

// checkSchema validates a JSON body against a schema.
func checkSchema(t testing.TB, where string, schema *openapi3.Schema, body []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Errorf("OpenAPI: %s: body is not JSON: %v: %.200s", where, err, body)
		return
	}
	// kin-openapi's own validator knows 3.1's type arrays, enums, formats
	// and references; its JSON Schema 2020 mode compiles the schema again
	// on every call, a thousand times slower over the whole suite.
	if err := schema.VisitJSON(v, openapi3.MultiErrors()); err != nil {
		msg := err.Error()
		if len(msg) > 1500 {
			msg = msg[:1500] + "…"
		}
		t.Errorf("OpenAPI: %s: the response does not match the document: %s\nbody: %.600s", where, msg, body)
	}
}

// TestOpenAPIMatcher: a request path finds its documented template, literal
// segments winning as in the router.
func TestOpenAPIMatcher(t *testing.T) {
	t.Parallel()
	doc := specFor(t)
	for path, want := range map[string]string{
		testPrefix + "/appointments/series/" + noSuchID:                 testPrefix + "/appointments/series/{seriesId}",
		testPrefix + "/appointments/" + noSuchID + "/cancel":            testPrefix + "/appointments/{appointmentId}/cancel",
		testPrefix + "/families/invitations/abc/details":                testPrefix + "/families/invitations/{token}/details",
		testPrefix + "/families/" + noSuchID + "/documents/expiring":    testPrefix + "/families/{familyId}/documents/expiring",
		testPrefix + "/families/" + noSuchID + "/documents/" + noSuchID: testPrefix + "/families/{familyId}/documents/{documentId}",
		"/health/live": "/health/live",
	} {
		if got, _ := matchDocPath(doc, (&url.URL{Path: path}).Path); got != want {
			t.Errorf("%s matched %q, want %q", path, got, want)
		}
	}
}
