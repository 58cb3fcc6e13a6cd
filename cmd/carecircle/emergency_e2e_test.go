package main

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify/sms/smstest"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// rigUser is an account signed up through the API.
type rigUser struct {
	ID, Name, Email, Token string
}

// signUp registers, reads the code from the mail the SMTP server received
// and verifies the address.
func (r *emergencyRig) signUp(name, email string) rigUser {
	r.tb.Helper()
	from := len(r.mx.all())
	r.call("POST", "/auth/register", "", map[string]any{"fullName": name, "email": email, "password": "Correct-horse-42"}, 201, nil)
	msgs, ok := r.mx.await(from, 1, func(m sinkMail) bool { return m.to(email) && codeRE.MatchString(m.Mail.Text) }, 10*time.Second)
	if !ok {
		r.tb.Fatalf("no verification code mailed to %s", email)
	}
	var v struct {
		AccessToken string `json:"accessToken"`
		User        struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	r.call("POST", "/auth/verify-email", "", map[string]any{"email": email, "otp": codeRE.FindStringSubmatch(msgs[0].Mail.Text)[1]}, 200, &v)
	return rigUser{ID: v.User.ID, Name: name, Email: email, Token: v.AccessToken}
}

// join invites the person into the family as role, signs them up and
// accepts the invitation from the link in the mail.
func (r *emergencyRig) join(admin rigUser, familyID, name, email, role string) rigUser {
	r.tb.Helper()
	from := len(r.mx.all())
	r.call("POST", "/families/"+familyID+"/invite", admin.Token, map[string]any{"email": email, "role": role}, 201, nil)
	msgs, ok := r.mx.await(from, 1, func(m sinkMail) bool { return m.to(email) && inviteRE.MatchString(m.Mail.Text) }, 10*time.Second)
	if !ok {
		r.tb.Fatalf("no invitation mailed to %s", email)
	}
	u := r.signUp(name, email)
	r.call("POST", "/families/invitations/"+inviteRE.FindStringSubmatch(msgs[0].Mail.Text)[1]+"/accept", u.Token, nil, 200, nil)
	return u
}

// emailQuota reads the SMTP provider's use of the day from /health.
func (r *emergencyRig) emailQuota() (used, limit, reserve int64) {
	r.tb.Helper()
	var h struct {
		Components struct {
			EmailQuota []struct {
				Provider string `json:"provider"`
				Used     int64  `json:"used"`
				Limit    int64  `json:"limit"`
				Reserve  int64  `json:"reserve"`
			} `json:"emailQuota"`
		} `json:"components"`
	}
	r.call("GET", "/health", "", nil, 200, &h)
	for _, q := range h.Components.EmailQuota {
		if q.Provider == "smtp" {
			return q.Used, q.Limit, q.Reserve
		}
	}
	r.tb.Fatalf("no smtp quota on /health: %+v", h)
	return 0, 0, 0
}

// rigNotification is a notification as GET /notifications lists it.
type rigNotification struct {
	ID    string         `json:"id"`
	Type  string         `json:"type"`
	Title string         `json:"title"`
	Body  string         `json:"body"`
	Data  map[string]any `json:"data"`
}

// pushPayload is what the service worker receives, decrypted.
type pushPayload struct {
	Title              string         `json:"title"`
	Body               string         `json:"body"`
	Tag                string         `json:"tag"`
	RequireInteraction bool           `json:"requireInteraction"`
	Data               map[string]any `json:"data"`
	Actions            []struct {
		Action string `json:"action"`
	} `json:"actions"`
}

// TestEmergencyAlertReachesEveryMemberEndToEnd is the seed scenario
// "emergency alert → all family members notified" on each database, with
// the API and its delivery channels in this process and every channel
// (push included) served on a real socket; see emergencyScenario.
func TestEmergencyAlertReachesEveryMemberEndToEnd(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		st := open(t, clock.Real{})
		emergencyScenario(t, newEmergencyRig(t, st, scenarioEmailLimit), st)
	})
}

// TestEmergencyAlertEndToEndBinary runs the same scenario against the real
// binary on each database, configured by environment as in production:
// SMTP_HOST and EMAIL_DAILY_LIMIT for email, TWILIO_* for texts. Its push
// client only reaches public push services, so no browser subscribes here;
// TestEmergencyAlertReachesEveryMemberEndToEnd covers push.
func TestEmergencyAlertEndToEndBinary(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			r := &emergencyRig{tb: t, mx: startMailSink(t), texts: smstest.NewServer(t)}
			env := map[string]string{
				"DATA_DIR": t.TempDir(), "RATE_LIMIT_ENABLED": "false", "PUBLIC_URL": rigPublicURL,
				"SMTP_HOST": "127.0.0.1", "SMTP_PORT": strconv.Itoa(r.mx.port), "EMAIL_DAILY_LIMIT": strconv.Itoa(scenarioEmailLimit),
				"TWILIO_ACCOUNT_SID": r.texts.AccountSID, "TWILIO_AUTH_TOKEN": r.texts.AuthToken,
				"TWILIO_FROM": r.texts.From, "TWILIO_BASE_URL": r.texts.URL,
			}
			if backend == "postgres" {
				env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
			}
			base, _ := startServer(t, env)
			r.root, r.api = base, base+rigPrefix
			emergencyScenario(t, r, nil)
		})
	}
}

// scenarioEmailLimit is the scenario's daily email budget: 12 keeps a
// reserve of 2 for emergencies, so routine mail stops at 10.
const scenarioEmailLimit = 12

// emergencyScenario: a family of four signs up, (when r has a push service)
// subscribes to push and (one member) verifies a phone, all through the
// API; password resets have spent the day's email quota down to the
// reserve. A caregiver raises an alert. Every other member has it in the
// app, on their browser (decrypted, urgent, staying on screen), by email
// despite the spent quota, and by text where the phone is verified; the
// raiser gets nothing, and a password reset asked for afterwards is refused
// with 503 and Retry-After, neither sent nor kept for later (checked in st,
// when given).
func emergencyScenario(t *testing.T, r *emergencyRig, st *store.Store) {
	const limit = scenarioEmailLimit
	ctx := context.Background()
	withPush := r.push != nil

	ann := r.signUp("Ann Lee", "ann@example.com")
	var fam struct {
		ID string `json:"id"`
	}
	r.call("POST", "/families", ann.Token, map[string]any{"name": "The Lees"}, 201, &fam)
	bo := r.join(ann, fam.ID, "Bo Lee", "bo@example.com", "CAREGIVER")
	cy := r.join(ann, fam.ID, "Cy Lee", "cy@example.com", "CAREGIVER")
	di := r.join(ann, fam.ID, "Di Lee", "di@example.com", "VIEWER")
	var cr struct {
		ID string `json:"id"`
	}
	r.call("POST", "/families/"+fam.ID+"/care-recipients", ann.Token, map[string]any{"fullName": "Grandma Lee", "timezone": "Europe/London"}, 201, &cr)

	// Cy proves a phone number by text.
	r.call("POST", "/user/phone/verification", cy.Token, map[string]any{"phone": "+44 7700 900123"}, 200, nil)
	code, ok := r.texts.Next(10 * time.Second)
	if !ok {
		t.Fatal("no verification text")
	}
	r.call("POST", "/user/phone/verify", cy.Token, map[string]any{"code": regexp.MustCompile(`[0-9]{6}`).FindString(code.Body)}, 200, nil)
	if withPush {
		for _, u := range []rigUser{ann, bo, cy, di} {
			r.subscribe(u.Token)
		}
	}

	// Password reset links (transactional) spend the day down to the
	// reserve that routine mail may not touch.
	used, gotLimit, reserve := r.emailQuota()
	if gotLimit != limit || reserve != 2 {
		t.Fatalf("quota limit %d reserve %d", gotLimit, reserve)
	}
	for _, u := range []rigUser{ann, bo, cy, di, ann, bo, cy, di, ann, bo, cy, di} {
		if used >= limit-reserve {
			break
		}
		r.call("POST", "/auth/forgot-password", "", map[string]any{"email": u.Email}, 200, nil)
		used, _, _ = r.emailQuota()
	}
	if used != limit-reserve {
		t.Fatalf("routine mail used %d of the day's %d", used, limit)
	}
	mailMark := len(r.mx.all())

	// Bo raises the alert.
	var alert struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	r.call("POST", "/care-recipients/"+cr.ID+"/emergency/alerts", bo.Token, map[string]any{
		"type": "FALL", "title": "Fell on the stairs", "description": "Conscious, cannot stand up", "location": "Front stairs",
	}, 201, &alert)
	if alert.Status != "ACTIVE" {
		t.Fatalf("alert = %+v", alert)
	}
	alertURL := rigPublicURL + "/emergency/" + alert.ID

	// In the app: every other member, not Bo.
	owner := map[string]string{} // notification id → member email
	for _, u := range []rigUser{ann, bo, cy, di} {
		var ns []rigNotification
		r.call("GET", "/notifications", u.Token, nil, 200, &ns)
		var mine []rigNotification
		for _, n := range ns {
			if n.Type == "EMERGENCY_ALERT" {
				mine = append(mine, n)
			}
		}
		if u == bo {
			if len(mine) != 0 {
				t.Fatalf("the raiser was notified: %+v", mine)
			}
			continue
		}
		if len(mine) != 1 || mine[0].Data["alertId"] != alert.ID || mine[0].Data["raisedBy"] != "Bo Lee" ||
			mine[0].Title != "Fell on the stairs" || !strings.Contains(mine[0].Body, "Grandma Lee") {
			t.Fatalf("%s's emergency notifications = %+v", u.Email, mine)
		}
		owner[mine[0].ID] = u.Email
	}

	if withPush {
		// By push: one urgent message per member's browser, decrypted. (A
		// push of the family's earlier news may still be on its way; only
		// the alert's are counted.)
		var pushedTo []string
		for i := 0; len(pushedTo) < 3; i++ {
			if i == 20 {
				t.Fatalf("pushed to %v only", pushedTo)
			}
			d := r.push.Next()
			var p pushPayload
			if err := json.Unmarshal(d.Payload, &p); err != nil {
				t.Fatalf("push payload %s: %v", d.Payload, err)
			}
			if p.Data["type"] != "EMERGENCY_ALERT" {
				continue
			}
			who, ok := owner[fmt.Sprint(p.Data["notificationId"])]
			if !ok || p.Data["alertId"] != alert.ID || !p.RequireInteraction || p.Title != "Fell on the stairs" ||
				p.Data["url"] != alertURL || len(p.Actions) == 0 || p.Actions[0].Action != "acknowledge" {
				t.Fatalf("push payload = %s", d.Payload)
			}
			if u := d.Header.Get("Urgency"); u != "high" {
				t.Fatalf("push Urgency = %q", u)
			}
			pushedTo = append(pushedTo, who)
		}
		sort.Strings(pushedTo)
		if want := []string{ann.Email, cy.Email, di.Email}; !equalStrings(pushedTo, want) {
			t.Fatalf("pushed to %v, want %v", pushedTo, want)
		}
	}

	// By email, although routine mail has spent the quota.
	emergencyMail := func(m sinkMail) bool { return strings.HasPrefix(m.Mail.Subject, "EMERGENCY:") }
	msgs, ok := r.mx.await(mailMark, 3, emergencyMail, 10*time.Second)
	if !ok {
		t.Fatalf("emergency mail: %d of 3 arrived", len(msgs))
	}
	var mailedTo []string
	for _, m := range msgs {
		mailedTo = append(mailedTo, strings.Join(m.To, ","))
		if m.Mail.Subject != "EMERGENCY: Fell on the stairs (Grandma Lee)" || !strings.Contains(m.Mail.Text, "Bo Lee raised an emergency alert") ||
			!strings.Contains(m.Mail.Text, "Front stairs") || !strings.Contains(m.Mail.Text, alertURL) {
			t.Fatalf("emergency mail = %+v", m.Mail)
		}
	}
	sort.Strings(mailedTo)
	if want := []string{ann.Email, cy.Email, di.Email}; !equalStrings(mailedTo, want) {
		t.Fatalf("mailed to %v, want %v", mailedTo, want)
	}
	// Every emergency email is counted, past the limit. (Emergency sends
	// racing for the last reserved message may count one more: a
	// reservation refused in a race keeps its increment.)
	if used, _, _ := r.emailQuota(); used < limit-reserve+3 || used <= limit {
		t.Fatalf("after the alert %d emails are counted today; want at least %d, past the limit %d", used, limit-reserve+3, limit)
	}

	// By text, to the one verified phone.
	text, ok := r.texts.Next(10 * time.Second)
	if !ok || text.To != "+447700900123" || !strings.Contains(text.Body, "Fell on the stairs") || !strings.Contains(text.Body, alertURL) {
		t.Fatalf("emergency text = %+v, %v", text, ok)
	}

	// The alert took the day's last messages: a password reset link now
	// cannot be sent, and the answer says so (the handler sends
	// synchronously, so it would be at the SMTP server by now).
	var refused struct {
		StatusCode int    `json:"statusCode"`
		Message    string `json:"message"`
	}
	r.call("POST", "/auth/forgot-password", "", map[string]any{"email": di.Email}, 503, &refused)
	if refused.StatusCode != 503 || !strings.Contains(refused.Message, "could not be emailed right now") {
		t.Fatalf("password reset after the alert: %+v", refused)
	}
	if st != nil {
		attempts, err := st.EmailAttempts(ctx, di.Email)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range attempts {
			if a.Template == "password-reset" && a.Status != string(mail.StatusSent) {
				t.Fatalf("password reset after the alert: %+v in %+v", a, attempts)
			}
		}
		due, err := st.DueEmails(ctx, mail.NextDay(time.Now()), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range due {
			if d.Template == "password-reset" {
				t.Fatalf("a password reset was kept for later: %+v", d)
			}
		}
	}
	for _, m := range r.mx.all()[mailMark:] {
		if !emergencyMail(m) {
			t.Fatalf("non-emergency mail went out with the quota spent: %+v", m.Mail)
		}
	}
	// Only the code and the alert were texted.
	if texts := r.texts.Messages(); len(texts) != 2 {
		t.Fatalf("texts sent = %+v; want the code and the alert", texts)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
