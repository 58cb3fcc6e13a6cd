package webtest

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// Signing in through a link with a hostile ?next= (the reported bypass: a
// TAB, which the browser strips, before a second slash) lands on this
// site's dashboard, not on another site; an honest ?next= is followed.
func TestSignInThroughNextStaysOnTheApp(t *testing.T) {
	s := startServer(t)
	token := s.signUp("Ann Lee", "ann@example.com")
	s.call("POST", "/families", token, map[string]any{"name": "The Lees"}, 201)
	for _, tc := range []struct{ next, want string }{
		{"/%09/evil.example/phish", "/dashboard"},
		{"/%5Cevil.example/phish", "/dashboard"},
		{"%2F%2Fevil.example", "/dashboard"},
		{"/medications", "/medications"},
	} {
		tb := newTab(t, "ann "+tc.next)
		tb.do(chromedp.Navigate(s.base+"/login?next="+tc.next),
			fill("#email", "ann@example.com"), fill("#password", password))
		if got := eval[string](tb, `document.querySelector('form[data-done=signin]').dataset.next`); got != tc.want {
			t.Errorf("next=%s: the sign-in form returns to %q, want %q", tc.next, got, tc.want)
		}
		tb.click(`form[data-api] button[type=submit]`)
		tb.waitFor(fmt.Sprintf(`location.origin === %q && location.pathname === %q && document.readyState === 'complete'`, s.base, tc.want), stepTimeout)
	}
}
