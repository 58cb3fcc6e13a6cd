package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// Size of the benchmark's family: 20 members, of whom this many (besides
// the one raising the alerts) have a verified phone.
const (
	benchMembers        = 20
	benchVerifiedPhones = 5
)

// benchFamily is a family of benchMembers with one care recipient, each
// member subscribed to push once; it returns the care recipient's id and
// an access token of the member who raises the alerts (a CAREGIVER).
func benchFamily(b *testing.B, r *emergencyRig) (crID, raiserToken string) {
	b.Helper()
	ctx := context.Background()
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	users := make([]*care.User, benchMembers)
	for i := range users {
		u, err := r.st.CreateUser(ctx, store.NewUser{Email: fmt.Sprintf("member%02d@example.com", i), PasswordHash: "x",
			FullName: fmt.Sprintf("Member %02d", i), Timezone: "Europe/Berlin", Status: care.UserActive, SystemRole: care.SystemUser})
		must(err)
		users[i] = u
	}
	fam, _, err := r.st.CreateFamily(ctx, "Twenty", users[0].ID, nil)
	must(err)
	for i, u := range users[1:] {
		role := care.RoleCaregiver
		if i%3 == 2 {
			role = care.RoleViewer
		}
		tok := auth.NewOpaqueToken()
		_, err := r.st.CreateInvitation(ctx, store.NewInvitation{FamilyID: fam.ID, Email: u.Email, Role: role,
			InvitedByID: users[0].ID, TokenHash: auth.HashToken(tok), TTL: care.InvitationTTL})
		must(err)
		_, err = r.st.AcceptInvitation(ctx, auth.HashToken(tok), u.ID, u.Email)
		must(err)
	}
	for i, u := range users {
		sub, _ := r.push.Subscribe()
		_, err := r.st.SavePushSubscription(ctx, store.PushSubscription{UserID: u.ID, Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth})
		must(err)
		if i >= 2 && i < 2+benchVerifiedPhones { // not the raiser's (users[1])
			_, err := r.st.DB().ExecContext(ctx, `UPDATE users SET phone = $2, phone_verified = TRUE WHERE id = $1`,
				u.ID, fmt.Sprintf("+4915112345%03d", i))
			must(err)
		}
	}
	cr, err := r.st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: fam.ID, FullName: "Grandma", Timezone: "Europe/Berlin"})
	must(err)
	raiser := users[1]
	sess, err := r.st.CreateSession(ctx, store.NewSession{UserID: raiser.ID, TTL: 24 * time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	must(err)
	tok, err := r.tokens.Issue(raiser.ID, raiser.Email, sess.ID)
	must(err)
	return cr.ID, tok
}

// BenchmarkEmergencyFanOut measures an emergency alert's fan-out in a
// family of 20 on SQLite, in process: from the POST that raises it to the
// last hand-off to a channel of the 19 other members: the in-app
// notifications (committed when the POST answers), the push service
// accepting each browser's message, the SMTP server accepting each email,
// and the SMS API accepting each text to the verified phones. Each
// iteration raises one alert and waits for all of them; p50 and p99 of that
// latency are reported in milliseconds (the goal is p99 < 500 ms).
//
//	go test ./cmd/carecircle/ -run '^$' -bench EmergencyFanOut -benchtime 200x
func BenchmarkEmergencyFanOut(b *testing.B) {
	st := storetest.OpenSQLite(b, clock.Real{})
	r := newEmergencyRig(b, st, 1_000_000)
	crID, token := benchFamily(b, r)
	const others = benchMembers - 1

	// Texts are taken off the fake Twilio as they arrive, and stamped.
	ctx, cancel := context.WithCancel(context.Background())
	texted := make(chan time.Time, 1024)
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for ctx.Err() == nil {
			if _, ok := r.texts.Next(50 * time.Millisecond); ok {
				texted <- time.Now()
			}
		}
	}()
	b.Cleanup(func() { cancel(); <-drained })

	path := "/care-recipients/" + crID + "/emergency/alerts"
	var total, inApp, push, email, text []time.Duration
	for i := 0; b.Loop(); i++ {
		mailFrom, pushFrom := len(r.mx.all()), r.pushed.count()
		start := time.Now()
		r.call("POST", path, token, map[string]any{"type": "FALL", "title": fmt.Sprintf("Fall %d", i), "description": "On the stairs"}, 201, nil)
		last := time.Now()
		inApp = append(inApp, last.Sub(start))
		for range others {
			r.push.Next() // keeps the service's queue empty; stamps come from its answers
		}
		pushes, ok := r.pushed.await(pushFrom, others, 10*time.Second)
		if !ok {
			b.Fatalf("%d of %d pushes", len(pushes), others)
		}
		title := fmt.Sprintf("EMERGENCY: Fall %d ", i)
		mails, ok := r.mx.await(mailFrom, others, func(m sinkMail) bool { return strings.HasPrefix(m.Mail.Subject, title) }, 10*time.Second)
		if !ok {
			b.Fatalf("%d of %d emails", len(mails), others)
		}
		var lastPush, lastMail, lastText time.Time
		for _, t := range pushes {
			lastPush = later(lastPush, t)
		}
		for _, m := range mails {
			lastMail = later(lastMail, m.At)
		}
		for range benchVerifiedPhones {
			select {
			case t := <-texted:
				lastText = later(lastText, t)
			case <-time.After(10 * time.Second):
				b.Fatal("a text did not arrive")
			}
		}
		push, email, text = append(push, lastPush.Sub(start)), append(email, lastMail.Sub(start)), append(text, lastText.Sub(start))
		total = append(total, later(later(later(last, lastPush), lastMail), lastText).Sub(start))
	}
	b.StopTimer()
	b.ReportMetric(percentileMs(total, 50), "p50-ms")
	b.ReportMetric(percentileMs(total, 99), "p99-ms")
	b.ReportMetric(percentileMs(total, 100), "max-ms")
	b.ReportMetric(percentileMs(inApp, 50), "in-app-p50-ms")
	b.ReportMetric(percentileMs(inApp, 99), "in-app-p99-ms")
	b.ReportMetric(percentileMs(push, 50), "push-p50-ms")
	b.ReportMetric(percentileMs(email, 50), "email-p50-ms")
	b.ReportMetric(percentileMs(text, 50), "sms-p50-ms")
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// percentileMs is the p-th percentile (nearest rank) of ds, in milliseconds.
func percentileMs(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100
	rank = max(1, min(rank, len(s)))
	return float64(s[rank-1].Microseconds()) / 1000
}
