package api

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// relay is a metered provider in front of the harness's mailbox that can be
// taken down (a refused connection).
type relay struct {
	box  *mailbox
	down atomic.Bool
}

func (r *relay) Send(ctx context.Context, m mail.Message) error {
	if r.down.Load() {
		return fmt.Errorf("dial smtp: connection refused: %w", mail.ErrTemporary)
	}
	return r.box.Send(ctx, m)
}

// quotaMailer is the app's mailer over one metered relay with
// EMAIL_DAILY_LIMIT=10: routine mail stops at 8, transactional at 9.
func quotaMailer(r *relay, mailer **notify.Mailer) func(*store.Store, *clock.Fake, *mailbox) mail.Sender {
	return func(st *store.Store, clk *clock.Fake, box *mailbox) mail.Sender {
		r.box = box
		chain := &mail.Chain{Providers: []mail.Provider{{Name: "smtp", Sender: r}},
			Quota: mail.NewQuota(mail.QuotaConfig{Limit: 10}, notify.StoreCounter{Store: st}, clk), Clock: clk}
		*mailer = &notify.Mailer{Chain: chain, Store: st, Clock: clk}
		return *mailer
	}
}

// expect503 asserts that r is the "cannot email now" answer, with
// Retry-After in seconds.
func expect503(t *testing.T, r *response, what string, retryAfter time.Duration) {
	t.Helper()
	m := r.errorEnvelope(503)
	if got, want := r.Header.Get("Retry-After"), strconv.Itoa(int(retryAfter/time.Second)); got != want {
		t.Fatalf("Retry-After = %q, want %q", got, want)
	}
	if msg, _ := m["message"].(string); !strings.HasPrefix(msg, what+" could not be emailed right now") || m["error"] != "Service Unavailable" {
		t.Fatalf("503 envelope = %v", m)
	}
}

// TestTransactionalMailSentNowOr503: codes, reset links and invitations go
// out after routine mail used its share of the day; once even the
// transactional share is spent every such route answers 503 with
// Retry-After (to midnight UTC), stores nothing as sent and starts no
// cooldown, and the same requests pass the next day. A failing relay asks
// for a short wait, and a resend passes as soon as it is back.
func TestTransactionalMailSentNowOr503(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		var (
			smtp   relay
			mailer *notify.Mailer
		)
		h := newHarness(t, open, harnessOptions{mail: quotaMailer(&smtp, &mailer)})
		ctx := context.Background()
		register := func(addr, password string) *response {
			return h.request("POST", "/auth/register", "", map[string]any{"fullName": "Dee Lee", "email": addr, "password": password})
		}
		resend := func(addr string) *response {
			return h.request("POST", "/auth/resend-verification", "", map[string]any{"email": addr})
		}
		forgot := func(addr string) *response {
			return h.request("POST", "/auth/forgot-password", "", map[string]any{"email": addr})
		}

		ann := h.newUser("ann@example.com")
		bo := h.newUser("bo@example.com")
		fam := h.createFamilyAs(ann, "Lees")
		h.joinFamily(ann, fam, bo, "CAREGIVER")                        // 1 sent
		eveTok := h.inviteToken(ann, fam, "eve@example.com", "VIEWER") // 2
		eveID := h.request("GET", "/families/invitations/"+eveTok+"/details", "", nil).expect(200).Map()["id"].(string)
		invited := len(h.outboxEvents("family.member.invited"))

		// Routine mail uses its whole share (8 of 10) and then waits for
		// tomorrow; a verification code still goes out.
		for i := range 7 {
			if err := mailer.Send(ctx, mail.Message{To: "news@example.com", Subject: "r", Text: "r", Template: "digest"}); err != nil {
				t.Fatal(err)
			}
			if got, want := h.mail.count("news@example.com"), min(i+1, 6); got != want {
				t.Fatalf("routine mail %d: %d sent, want %d", i+1, got, want)
			}
		}
		signIn(h.verify("cy@example.com", func() string {
			register("cy@example.com", strongPassword).expect(201)
			return h.mailedCode("cy@example.com")
		}()))

		// 9 of 10 used: nothing but an emergency may send today.
		untilMidnight := 9 * time.Hour // testStart is 15:00 UTC
		expect503(t, register("dee@example.com", strongPassword), "The verification code", untilMidnight)
		dee, err := h.store.UserByEmail(ctx, "dee@example.com")
		if err != nil || dee.Status != care.UserPending {
			t.Fatalf("after the 503 the account is %v (%v), want PENDING", dee, err)
		}
		for _, otp := range []string{"000000", "123456"} {
			expectMessage(t, h.verify("dee@example.com", otp).errorEnvelope(400), "Invalid or expired verification code")
		}
		// No cooldown was started: each try is a 503, not a 429.
		for range 2 {
			expect503(t, resend("dee@example.com"), "The verification code", untilMidnight)
		}
		expect503(t, register("dee@example.com", strongPassword), "The verification code", untilMidnight)
		// Someone else's sign-up for the pending address is still refused.
		register("dee@example.com", "Another-horse-43").errorEnvelope(409)
		// Bad input stays a 4xx; unknown addresses get the usual answer.
		register("not-an-email", strongPassword).errorEnvelope(400)
		resend("nobody@example.com").expect(200)
		forgot("nobody@example.com").expect(200)

		expect503(t, forgot("ann@example.com"), "The password reset link", untilMidnight)
		expect503(t, h.request("POST", "/families/"+fam+"/invite", ann.Token,
			map[string]any{"email": "fay@example.com", "role": "VIEWER"}), "The invitation", untilMidnight)
		expect503(t, h.request("POST", "/families/invitations/"+eveID+"/resend", ann.Token, nil), "The invitation", untilMidnight)
		expect503(t, h.request("POST", "/families/"+fam+"/members/"+bo.ID+"/reset-password", ann.Token, nil),
			"The password reset link", untilMidnight)

		// Nothing was kept as sent: no invitation to fay and no event, eve's
		// link still works, bo is still signed in.
		invs := h.request("GET", "/families/"+fam+"/invitations", ann.Token, nil).expect(200).List()
		if len(invs) != 1 || invs[0]["email"] != "eve@example.com" {
			t.Fatalf("invitations after the 503s = %v", invs)
		}
		if n := len(h.outboxEvents("family.member.invited")); n != invited {
			t.Fatalf("%d family.member.invited events, want %d", n, invited)
		}
		h.request("GET", "/families/invitations/"+eveTok+"/details", "", nil).expect(200)
		h.request("GET", "/auth/me", bo.Token, nil).expect(200)
		for addr, want := range map[string]int{"dee@example.com": 0, "ann@example.com": 0, "fay@example.com": 0,
			"bo@example.com": 1, "eve@example.com": 1} { // their invitations
			if n := h.mail.count(addr); n != want {
				t.Fatalf("%d mails to %s, want %d: nothing could send", n, addr, want)
			}
		}

		// The next UTC day the same requests pass.
		h.clock.Advance(untilMidnight)
		ann, bo = h.signInAgain(ann), h.signInAgain(bo)
		register("dee@example.com", strongPassword).expect(201)
		signIn(h.verify("dee@example.com", h.mailedCode("dee@example.com")))
		forgot("ann@example.com").expect(200)
		if !resetRE.MatchString(h.mail.last(t, "ann@example.com").Text) {
			t.Fatal("no reset link in the mail to ann")
		}
		h.request("POST", "/families/"+fam+"/invite", ann.Token, map[string]any{"email": "fay@example.com", "role": "VIEWER"}).expect(201)
		h.request("GET", "/families/invitations/"+h.lastInviteToken("fay@example.com")+"/details", "", nil).expect(200)
		h.request("POST", "/families/invitations/"+eveID+"/resend", ann.Token, nil).expect(200)
		h.request("GET", "/families/invitations/"+eveTok+"/details", "", nil).errorEnvelope(404)
		h.request("GET", "/families/invitations/"+h.lastInviteToken("eve@example.com")+"/details", "", nil).expect(200)
		h.request("POST", "/families/"+fam+"/members/"+bo.ID+"/reset-password", ann.Token, nil).expect(200)
		h.request("GET", "/auth/me", bo.Token, nil).errorEnvelope(401)
		if n := len(h.outboxEvents("family.member.invited")); n != invited+1 {
			t.Fatalf("%d family.member.invited events, want %d", n, invited+1)
		}

		// A relay that refuses connections: a short wait, and a resend
		// passes as soon as it is back.
		smtp.down.Store(true)
		expect503(t, register("gus@example.com", strongPassword), "The verification code", notify.ProviderRetryDelay)
		expect503(t, resend("gus@example.com"), "The verification code", notify.ProviderRetryDelay)
		smtp.down.Store(false)
		resend("gus@example.com").expect(200)
		signIn(h.verify("gus@example.com", h.mailedCode("gus@example.com")))
	})
}

// TestCannotSendNowWithoutRetryAfter: a sender whose failure does not say
// when to retry gets the default wait, and Retry-After is whole seconds,
// rounded up.
func TestCannotSendNowWithoutRetryAfter(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		wait   time.Duration
		header string
		words  string
	}{
		{0, "1", "in a minute"},
		{1500 * time.Millisecond, "2", "in a minute"},
		{time.Minute, "60", "in a minute"},
		{10*time.Minute + time.Second, "601", "in 11 minutes"},
		{time.Hour, "3600", "in an hour"},
		{8*time.Hour + 30*time.Minute, "30600", "in 9 hours"},
	} {
		e := toError(feature.CannotSendNow("The invitation", c.wait))
		if e.Status != 503 || e.Header.Get("Retry-After") != c.header || !strings.HasSuffix(e.Message, c.words+".") {
			t.Errorf("cannotSendNow(%v) = %d %q, Retry-After %q; want %q, %q", c.wait, e.Status, e.Message,
				e.Header.Get("Retry-After"), c.header, c.words)
		}
	}
	h := sqliteHarness(t, harnessOptions{mail: func(*store.Store, *clock.Fake, *mailbox) mail.Sender {
		return failing{errors.New("no transport")}
	}})
	r := h.request("POST", "/auth/register", "", map[string]any{"fullName": "Ann Lee", "email": "ann@example.com", "password": strongPassword})
	expect503(t, r, "The verification code", feature.DefaultMailRetry)
}

type failing struct{ err error }

func (f failing) Send(context.Context, mail.Message) error { return f.err }
