package webtest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestOpenAPIDocsPage: /api/docs, served by the app beside the API, renders
// every operation of /api/v1/openapi.json and the schemas under the app's
// strict Content-Security-Policy (a violation or a script error fails the
// test), and its filter narrows the routes shown.
func TestOpenAPIDocsPage(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(s.callRaw("GET", "/openapi.json", "", nil, 200), &doc); err != nil {
		t.Fatal(err)
	}
	ops := 0
	for _, item := range doc.Paths {
		for method := range item {
			switch method {
			case "get", "post", "put", "patch", "delete":
				ops++
			}
		}
	}
	if doc.OpenAPI != "3.1.0" || ops < 100 {
		t.Fatalf("openapi %q with %d operations", doc.OpenAPI, ops)
	}

	tb := newTab(t, "reader")
	tb.do(chromedp.Navigate(s.base + "/api/docs"))
	tb.waitFor(`document.querySelectorAll('section.op').length > 0`, 30*time.Second)
	if got := eval[int](tb, `document.querySelectorAll('section.op').length`); got != ops {
		t.Fatalf("the page shows %d operations, the document has %d", got, ops)
	}
	if !eval[bool](tb, `!!document.getElementById('schema-Error') && !!document.querySelector('#op-post--auth-login')`) {
		t.Fatal("the page lacks the error envelope or POST /auth/login")
	}
	// References are followed: path parameters and the error response read
	// as themselves.
	meds := `document.querySelector('#op-get--care-recipients-careRecipientId-medications')`
	if !eval[bool](tb, meds+`.querySelector('table').textContent.includes('careRecipientId')`) ||
		!eval[bool](tb, meds+`.textContent.includes('An error, in the envelope.')`) {
		t.Fatalf("GET .../medications reads: %s", eval[string](tb, meds+`.textContent`))
	}
	tb.do(chromedp.SendKeys("#filter", "emergency/alerts"))
	tb.waitFor(`[...document.querySelectorAll('section.op')].filter(s => !s.hidden).length === 5`, 10*time.Second)
}
