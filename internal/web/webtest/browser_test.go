package webtest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

const submit = `main form[data-api] button[type=submit]`

// TestOnboardingInTheBrowser walks a new family's first minutes: register,
// the emailed code, the family, the person they care for, an invitation
// that the invited brother accepts from his mail; then every page of the
// app renders for them without a console error.
func TestOnboardingInTheBrowser(t *testing.T) {
	s := startServer(t)
	ann := newTab(t, "ann")

	ann.do(chromedp.Navigate(s.base+"/register"),
		fill("#fullName", "Ann Lee"), fill("#email", "ann@example.com"), fill("#password", password))
	ann.click(submit)
	ann.waitFor(`location.pathname === '/verify-email' && document.querySelector('#otp') !== null`, stepTimeout)
	code := codeRE.FindStringSubmatch(s.lastMail("ann@example.com"))
	if code == nil {
		t.Fatal("no code in the verification mail")
	}
	if got := eval[string](ann, `document.querySelector('#email').value`); got != "ann@example.com" {
		t.Errorf("the verify page's email = %q, want it carried over from registration", got)
	}
	ann.do(fill("#otp", code[1]))
	ann.click(`form[data-done=signin] button[type=submit]`)
	ann.waitFor(`location.pathname === '/onboarding' && document.querySelector('#family-name') !== null`, stepTimeout)

	ann.do(fill("#family-name", "The Lees"))
	ann.click(submit)
	ann.waitFor(`document.querySelector('#cr-name') !== null`, stepTimeout)
	ann.do(fill("#cr-name", "Grandma Lee"), fill("#cr-zone", "Asia/Tokyo"))
	ann.click(submit)
	ann.waitFor(`document.querySelector('#invite-email') !== null`, stepTimeout)
	ann.do(fill("#invite-email", "bo@example.com"))
	ann.click(`form[data-api$="/invite"] button[type=submit]`)
	ann.waitFor(`[...document.querySelectorAll('main li')].some((li) => li.textContent.includes('bo@example.com'))`, stepTimeout)
	link := inviteRE.FindStringSubmatch(s.lastMail("bo@example.com"))
	if link == nil {
		t.Fatal("no accept-invite link in the invitation mail")
	}
	ann.click(`button[data-api$="/auth/complete-onboarding"]`)
	ann.waitFor(`location.pathname === '/dashboard' && document.querySelector('#doses') !== null`, stepTimeout)
	if h := ann.text("#doses h2"); !strings.Contains(h, "Grandma Lee") {
		t.Errorf("dashboard heading = %q, want the care recipient's name", h)
	}

	// Bo follows the link from his mail, creates his account from it and joins.
	bo := newTab(t, "bo")
	bo.do(chromedp.Navigate(s.base + "/accept-invite/" + link[1]))
	if got := bo.text("main .card"); !strings.Contains(got, "Ann Lee") || !strings.Contains(got, "The Lees") {
		t.Errorf("invitation card = %q", got)
	}
	bo.click(`a.button.primary`)
	bo.waitFor(`location.pathname === '/register' && document.querySelector('#email').value === 'bo@example.com'`, stepTimeout)
	bo.do(fill("#fullName", "Bo Lee"), fill("#password", password))
	bo.click(submit)
	bo.waitFor(`location.pathname === '/verify-email' && document.querySelector('#otp') !== null`, stepTimeout)
	code = codeRE.FindStringSubmatch(s.lastMail("bo@example.com"))
	bo.do(fill("#otp", code[1]))
	bo.click(`form[data-done=signin] button[type=submit]`)
	bo.waitFor(`location.pathname.startsWith('/accept-invite/') && document.querySelector('button.primary[data-api$="/accept"]') !== null`, stepTimeout)
	bo.click(`button.primary[data-api$="/accept"]`)
	bo.waitFor(`location.pathname === '/dashboard' && document.querySelector('#doses') !== null`, stepTimeout)

	ann.do(chromedp.Navigate(s.base + "/family"))
	if got := ann.text("#members"); !strings.Contains(got, "Bo Lee") {
		t.Errorf("family members = %q, want Bo", got)
	}

	// Every page renders for the signed-in admin, with no console error.
	crID := eval[string](ann, `document.body.dataset.cr`)
	for _, p := range []string{"/dashboard", "/medications", "/calendar", "/caregivers", "/timeline", "/emergency",
		"/documents", "/care-recipients", "/care-recipients/" + crID, "/family", "/notifications", "/settings", "/offline", "/onboarding"} {
		res, err := chromedp.Run(ann.ctx, chromedp.NavigateResponse(s.base+p))
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if res.Status != http.StatusOK {
			t.Errorf("%s answered %d", p, res.Status)
		}
		ann.waitFor(`document.readyState === 'complete' && document.querySelector('main h1') !== null`, stepTimeout)
		if h := ann.text("main h1"); h == "Not found" || h == "" {
			t.Errorf("%s: heading %q", p, h)
		}
	}
	// Times show in Ann's zone with Grandma's (Tokyo) where it differs.
	ann.do(chromedp.Navigate(s.base + "/medications"))
	if hint := ann.text("main"); !strings.Contains(hint, "Asia/Tokyo") {
		t.Errorf("medications page does not name the care recipient's zone: %q", hint)
	}
}

// family is a family set up through the API: Ann (admin) and Bo
// (caregiver) caring for Grandma, who takes one medication at 08:00 and
// 20:00 in her zone.
type family struct {
	id, crID, medID string
	annToken        string
	boToken         string
}

func setUpFamily(t *testing.T, s *server) family {
	t.Helper()
	var f family
	f.annToken = s.signUp("Ann Lee", "ann@example.com")
	f.id = s.call("POST", "/families", f.annToken, map[string]any{"name": "The Lees"}, 201)["id"].(string)
	s.call("POST", "/families/"+f.id+"/invite", f.annToken, map[string]any{"email": "bo@example.com", "role": "CAREGIVER"}, 201)
	link := inviteRE.FindStringSubmatch(s.lastMail("bo@example.com"))
	f.boToken = s.signUp("Bo Lee", "bo@example.com")
	s.call("POST", "/families/invitations/"+link[1]+"/accept", f.boToken, nil, 200)
	f.crID = s.call("POST", "/families/"+f.id+"/care-recipients", f.annToken,
		map[string]any{"fullName": "Grandma Lee", "timezone": "UTC"}, 201)["id"].(string)
	f.medID = s.call("POST", "/care-recipients/"+f.crID+"/medications", f.annToken, map[string]any{
		"name": "Metformin", "dosage": "500 mg", "form": "TABLET", "frequency": "TWICE_DAILY", "scheduledTimes": []string{"08:00", "20:00"},
	}, 201)["id"].(string)
	return f
}

// doseLogs counts the medication's logs the server holds.
func (s *server) doseLogs(f family) int {
	s.t.Helper()
	var logs []map[string]any
	raw := s.callRaw("GET", "/care-recipients/"+f.crID+"/medications/"+f.medID+"/logs", f.annToken, nil, 200)
	if err := jsonUnmarshal(raw, &logs); err != nil {
		s.t.Fatalf("logs: %v: %s", err, raw)
	}
	return len(logs)
}

// TestDoseLoggedByOneMemberShowsAtOnceForAnother: Bo taps "Given" on his
// phone; Ann's open dashboard shows it without a reload.
func TestDoseLoggedByOneMemberShowsAtOnceForAnother(t *testing.T) {
	s := startServer(t)
	f := setUpFamily(t, s)
	ann, bo := newTab(t, "ann"), newTab(t, "bo")
	ann.signIn(s, "ann@example.com")
	bo.signIn(s, "bo@example.com")
	ann.waitFor(fmt.Sprintf(`(document.body.dataset.subscribed || '').split(' ').includes(%q)`, f.id), stepTimeout)
	eval[bool](ann, `window.__ccLoaded = true`) // gone if the page reloads

	first := `document.querySelector('#doses li.dose')`
	if got := eval[string](ann, first+`.className`); strings.Contains(got, "status-given") {
		t.Fatalf("the dose is given before anyone logged it: %s", got)
	}
	start := time.Now()
	bo.click(`#doses li.dose button.primary`)
	// How soon it shows is a figure for docs/BENCHMARKS.md (about 0.2 s),
	// not an assertion: a loaded machine stretches it. Not showing within
	// 10 s means the update was lost.
	ann.waitFor(first+`.classList.contains('status-given') && `+first+`.textContent.includes('Bo Lee')`, 10*time.Second)
	t.Logf("Bo's dose showed on Ann's dashboard after %v", time.Since(start))
	if !eval[bool](ann, `window.__ccLoaded === true`) {
		t.Error("Ann's dashboard reloaded to show the dose")
	}
	if n := s.doseLogs(f); n != 1 {
		t.Errorf("the server has %d logs, want 1", n)
	}
}

// TestEmergencyRaisedShowsItsBannerToTheFamily: Bo raises an emergency from
// the emergency page; the banner appears on Ann's open page at once.
func TestEmergencyRaisedShowsItsBannerToTheFamily(t *testing.T) {
	s := startServer(t)
	f := setUpFamily(t, s)
	if raw := s.callRaw("GET", "/care-recipients/"+f.crID+"/emergency/alerts", f.annToken, nil, 0); strings.Contains(string(raw), "Cannot GET") {
		t.Skip("the emergency alert routes are not served yet")
	}
	ann, bo := newTab(t, "ann"), newTab(t, "bo")
	ann.signIn(s, "ann@example.com")
	ann.do(chromedp.Navigate(s.base + "/medications"))
	ann.waitFor(fmt.Sprintf(`(document.body.dataset.subscribed || '').split(' ').includes(%q)`, f.id), stepTimeout)
	if !eval[bool](ann, `document.querySelector('#emergency-banner').hidden`) {
		t.Fatal("the banner shows before any emergency")
	}
	bo.signIn(s, "bo@example.com")
	bo.do(chromedp.Navigate(s.base+"/emergency"),
		fill("#al-title", "Grandma fell"), fill("#al-desc", "In the kitchen, conscious"))
	bo.click(submit)
	ann.waitFor(`!document.querySelector('#emergency-banner').hidden && document.querySelector('#emergency-banner').textContent.includes('Grandma fell')`, 5*time.Second)

	// Ann acknowledges from the emergency page; Bo resolves it.
	ann.do(chromedp.Navigate(s.base + "/emergency"))
	ann.waitFor(`document.querySelector('[data-alerts] button[data-api$="/acknowledge"]') !== null`, stepTimeout)
	ann.click(`[data-alerts] button[data-api$="/acknowledge"]`)
	bo.waitFor(`document.querySelector('#emergency-banner').textContent.includes('acknowledged')`, 5*time.Second)
	bo.waitFor(`document.querySelector('[data-alerts] button[data-api$="/resolve"]') !== null`, stepTimeout)
	bo.click(`[data-alerts] button[data-api$="/resolve"]`)
	ann.waitFor(`document.querySelector('#emergency-banner').hidden`, 5*time.Second)
}

// TestDoseLoggedOfflineIsSentOnceWhenBackOnline: with no connection Bo
// still reads today's schedule and taps "Given"; the dose waits on his
// phone and reaches the server exactly once when the connection is back.
func TestDoseLoggedOfflineIsSentOnceWhenBackOnline(t *testing.T) {
	s := startServer(t)
	f := setUpFamily(t, s)
	bo := newTab(t, "bo")
	bo.signIn(s, "bo@example.com")
	// The service worker takes the page over and keeps today's schedule.
	bo.waitFor(`navigator.serviceWorker.controller !== null`, stepTimeout)
	bo.do(chromedp.Reload())
	bo.waitFor(`document.querySelector('#doses li.dose button.primary') !== null`, stepTimeout)

	bo.setOffline(true)
	bo.do(chromedp.Reload())
	bo.waitFor(`!navigator.onLine && document.querySelector('#doses li.dose button.primary') !== null`, stepTimeout)
	bo.click(`#doses li.dose button.primary`)
	bo.waitFor(`document.body.dataset.queued === '1' && document.querySelector('#doses li.dose [data-state]').textContent.includes('Saved offline')`, stepTimeout)
	if n := s.doseLogs(f); n != 0 {
		t.Fatalf("the server has %d logs while Bo is offline", n)
	}

	bo.setOffline(false)
	bo.waitFor(`document.body.dataset.queued === '0'`, stepTimeout)
	if n := s.doseLogs(f); n != 1 {
		t.Fatalf("after the replay the server has %d logs, want 1", n)
	}
	// A second replay (another tab, a late sync) sends nothing again.
	if sent := eval[int](bo, `import('/static/js/queue.js').then((q) => q.replay())`); sent != 0 {
		t.Errorf("a second replay sent %d changes", sent)
	}
	bo.waitFor(`document.querySelector('#doses li.dose').classList.contains('status-given')`, stepTimeout)
	if n := s.doseLogs(f); n != 1 {
		t.Errorf("the server has %d logs, want exactly 1", n)
	}
}

// TestJournalEntryWithVitals: Bo writes a journal entry with a temperature
// and a weight; the form sends each reading with its unit (the API refuses
// one without the other) and the journal shows it.
func TestJournalEntryWithVitals(t *testing.T) {
	s := startServer(t)
	f := setUpFamily(t, s)
	bo := newTab(t, "bo")
	bo.signIn(s, "bo@example.com")
	bo.do(chromedp.Navigate(s.base+"/timeline"), fill("#t-title", "Evening check"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#t-type').value = 'VITALS'`),
		fill("#v-temp", "37.8"), fill("#v-weight", "61.5"))
	bo.click(`form[data-api$="/timeline"] button[type=submit]`)
	bo.waitFor(`document.querySelector('[data-timeline]').textContent.includes('Evening check')`, stepTimeout)

	var entries []map[string]any
	raw := s.callRaw("GET", "/care-recipients/"+f.crID+"/timeline", f.annToken, nil, 200)
	if err := jsonUnmarshal(raw, &entries); err != nil {
		t.Fatalf("timeline: %v: %s", err, raw)
	}
	if len(entries) != 1 {
		t.Fatalf("the server has %d entries, want 1: %s", len(entries), raw)
	}
	v, _ := entries[0]["vitals"].(map[string]any)
	if v["temperature"] != 37.8 || v["temperatureUnit"] != "C" || v["weight"] != 61.5 || v["weightUnit"] != "kg" {
		t.Errorf("vitals stored = %v", v)
	}
	if _, ok := v["bloodSugarUnit"]; ok {
		t.Errorf("a unit was sent without its reading: %v", v)
	}
}
