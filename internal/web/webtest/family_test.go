package webtest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestRemovingAMemberAsksFirst: Ann removes Bo from the family page. The
// page asks first and says what removing him does; saying no changes
// nothing, saying yes removes him, cancels the shift he had to come and
// updates the list without a reload.
func TestRemovingAMemberAsksFirst(t *testing.T) {
	s := startServer(t)
	f := setUpFamily(t, s)
	boID, _ := s.call("GET", "/auth/me", f.boToken, nil, 200)["id"].(string)
	if boID == "" {
		t.Fatal("no id for Bo")
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Hour).UTC()
	shift := s.call("POST", "/care-recipients/"+f.crID+"/shifts", f.annToken, map[string]any{
		"caregiverId": boID, "startTime": start.Format(time.RFC3339), "endTime": start.Add(4 * time.Hour).Format(time.RFC3339),
	}, 201)

	ann := newTab(t, "ann")
	ann.signIn(s, "ann@example.com")
	ann.do(chromedp.Navigate(s.base + "/family"))
	remove := `#members button[aria-label="Remove Bo Lee from the family"]`
	question := ann.clickAndAnswer(remove, false)
	if !strings.Contains(question, "Remove Bo Lee from The Lees?") || !strings.Contains(question, "shifts are cancelled") {
		t.Errorf("the page asked %q", question)
	}
	if members := s.callRaw("GET", "/families/"+f.id+"/members", f.annToken, nil, 200); !strings.Contains(string(members), "Bo Lee") {
		t.Fatalf("saying no removed Bo: %s", members)
	}
	eval[bool](ann, `window.__ccLoaded = true`) // gone if the page reloads
	ann.clickAndAnswer(remove, true)
	ann.waitFor(`!document.querySelector('#members').textContent.includes('Bo Lee')`, stepTimeout)
	if !eval[bool](ann, `window.__ccLoaded === true`) {
		t.Error("the family page reloaded")
	}
	if members := s.callRaw("GET", "/families/"+f.id+"/members", f.annToken, nil, 200); strings.Contains(string(members), "Bo Lee") {
		t.Errorf("Bo is still a member: %s", members)
	}
	got := s.call("GET", "/care-recipients/"+f.crID+"/shifts/"+shift["id"].(string), f.annToken, nil, 200)
	if got["status"] != "CANCELLED" {
		t.Errorf("Bo's shift is %v after he was removed", got["status"])
	}
}

// clickAndAnswer clicks an element whose action asks a question first
// (window.confirm), answers it and returns the question.
func (tb *tab) clickAndAnswer(sel string, accept bool) string {
	tb.t.Helper()
	tb.waitFor(`document.body.dataset.ready !== undefined`, stepTimeout)
	var question string
	tb.do(chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		// Listen before clicking: the click does not end while the
		// question is open.
		dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
		answered := make(chan error, 1)
		go func() {
			for ev, err := range dialogs {
				if err != nil {
					answered <- err
					return
				}
				question = ev.Message
				_, err := cdp.Call(ctx, target, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
				answered <- err
				return
			}
			answered <- errors.New("no question was asked")
		}()
		if _, err := chromedp.Click(chromedp.CSS(sel))(ctx, target); err != nil {
			return err
		}
		select {
		case err := <-answered:
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}))
	return question
}
