package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// testLogger writes a test's logs to t.Log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tLogWriter struct{ t *testing.T }

func (w tLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// countingSender is a transport that counts what it is given and answers
// with err.
type countingSender struct {
	mu   sync.Mutex
	err  error
	sent []Message
}

func (s *countingSender) Send(_ context.Context, m Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, m)
	return nil
}

func (s *countingSender) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)
}

// statuses lists the recorded attempts as "provider:status".
func statuses(r *MemoryRecorder) []string {
	var out []string
	for _, a := range r.Attempts() {
		out = append(out, a.Provider+":"+string(a.Status))
	}
	return out
}

func TestChainFallsBackToTheNextTransport(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC)
	clk := clock.NewFake(now)
	api := startFakeBrevo(t)
	api.setStatus(http.StatusServiceUnavailable)
	brevo, err := NewBrevo("k", "CareCircle <no-reply@carecircle.test>", nil, api.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv := startSMTPServer(t, smtpServerOptions{user: "u", pass: "p"})
	smtpSender, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: srv.Port, User: "u", Password: "p",
		From: "CareCircle <no-reply@carecircle.test>", TLSConfig: &tls.Config{RootCAs: srv.Roots}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	rec := &MemoryRecorder{}
	chain := &Chain{
		Providers: []Provider{{Name: "brevo", Sender: brevo}, {Name: "smtp", Sender: smtpSender}},
		Recorder:  rec, Clock: clk, Logger: testLogger(t),
	}
	m, err := Render("welcome", "en", WelcomeData{Name: "Ann", DashboardURL: "https://care.example/dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	m.To = "ann@example.com"

	provider, err := chain.Deliver(ctx, m, PriorityRoutine)
	if err != nil || provider != "smtp" {
		t.Fatalf("Deliver = %q, %v", provider, err)
	}
	if got := parseMail(t, srv.next(t).Data); got.Text != m.Text {
		t.Fatalf("smtp received %q", got.Text)
	}
	if n := len(api.received()); n != 1 {
		t.Fatalf("brevo tried %d times", n)
	}
	attempts := rec.Attempts()
	if got := statuses(rec); fmt.Sprint(got) != "[brevo:failed smtp:sent]" {
		t.Fatalf("attempts = %v", got)
	}
	a := attempts[0]
	if a.To != "ann@example.com" || a.Template != "welcome" || a.Priority != PriorityRoutine || !a.At.Equal(now) ||
		!strings.Contains(a.Error, "status 503") {
		t.Fatalf("failed attempt = %+v", a)
	}
	if attempts[1].Error != "" {
		t.Fatalf("sent attempt = %+v", attempts[1])
	}

	// When the primary recovers it is used again, and the fallback is not.
	api.setStatus(http.StatusCreated)
	if provider, err := chain.Deliver(ctx, m, PriorityRoutine); err != nil || provider != "brevo" {
		t.Fatalf("Deliver = %q, %v", provider, err)
	}
	srv.none(t)
}

func TestChainReportsEveryFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rec := &MemoryRecorder{}
	permanent := fmt.Errorf("refused: %w", ErrPermanent)
	temporary := fmt.Errorf("timeout: %w", ErrTemporary)
	chain := &Chain{Recorder: rec, Logger: testLogger(t), Providers: []Provider{
		{Name: "a", Sender: &countingSender{err: permanent}},
		{Name: "b", Sender: &countingSender{err: temporary}},
	}}
	m := Message{To: "ann@example.com", Template: "welcome"}
	_, err := chain.Deliver(ctx, m, PriorityRoutine)
	if !errors.Is(err, permanent) || !errors.Is(err, temporary) || !Temporary(err) || errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("err = %v", err)
	}
	if got := statuses(rec); fmt.Sprint(got) != "[a:failed b:failed]" {
		t.Fatalf("attempts = %v", got)
	}

	chain.Providers = chain.Providers[:1]
	if err := chain.Send(ctx, m); err == nil || Temporary(err) {
		t.Fatalf("a permanent failure alone is temporary: %v", err)
	}

	// A cancelled request tries nothing.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	before := len(rec.Attempts())
	if _, err := chain.Deliver(cancelled, m, PriorityEmergency); !errors.Is(err, context.Canceled) || len(rec.Attempts()) != before {
		t.Fatalf("cancelled delivery: %v, %d attempts", err, len(rec.Attempts())-before)
	}
	if _, err := (&Chain{}).Deliver(ctx, m, PriorityRoutine); err == nil {
		t.Fatal("a chain without providers delivered")
	}
}

func TestEmergencyGoesOutWhenTheQuotaIsSpent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	api := startFakeBrevo(t)
	brevo, err := NewBrevo("k", "no-reply@carecircle.test", nil, api.URL)
	if err != nil {
		t.Fatal(err)
	}
	var warned warnings
	quota := NewQuota(QuotaConfig{Limit: 10, OnWarning: warned.add}, NewMemoryCounter(clk), clk)
	rec := &MemoryRecorder{}
	chain := &Chain{Providers: []Provider{{Name: "brevo", Sender: brevo}}, Quota: quota, Recorder: rec, Clock: clk, Logger: testLogger(t)}
	reminder := Message{To: "bo@example.com", Subject: "Reminder", Text: "Metformin at 8", Template: "medication-reminder"}
	alert := Message{To: "bo@example.com", Subject: "EMERGENCY", Text: "Grandma fell", Template: "emergency-alert"}

	// The day's routine mail uses all but the reserve (2 of 10).
	for i := range 8 {
		if _, err := chain.Deliver(ctx, reminder, PriorityRoutine); err != nil {
			t.Fatalf("routine message %d: %v", i+1, err)
		}
	}
	if w := warned.list(); len(w) != 1 || w[0].Used != 8 {
		t.Fatalf("warnings = %v, want one at 8 of 10", w)
	}
	// The next routine message does not fit: the caller defers it.
	_, err = chain.Deliver(ctx, reminder, PriorityRoutine)
	if !errors.Is(err, ErrQuotaExceeded) || Temporary(err) {
		t.Fatalf("routine beyond the quota: %v", err)
	}
	chain.RecordOutcome(ctx, reminder, PriorityRoutine, StatusDeferred, err)
	retryAt := NextDay(clk.Now())
	if want := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC); !retryAt.Equal(want) {
		t.Fatalf("retry at %v", retryAt)
	}
	// Emergencies use the reserve, then go out regardless.
	for i := range 3 {
		if provider, err := chain.Deliver(ctx, alert, PriorityEmergency); err != nil || provider != "brevo" {
			t.Fatalf("emergency %d: %q, %v", i+1, provider, err)
		}
	}
	if n := len(api.received()); n != 11 {
		t.Fatalf("brevo received %d, want 8 routine + 3 emergencies", n)
	}
	if u, _ := quota.Usage(ctx, "brevo"); u.Used != 11 {
		t.Fatalf("usage = %+v: emergencies beyond the limit must still be counted", u)
	}
	attempts := rec.Attempts()
	if len(attempts) != 12 {
		t.Fatalf("attempts = %v", statuses(rec))
	}
	if d := attempts[8]; d.Status != StatusDeferred || d.Provider != "" || d.Template != "medication-reminder" ||
		!strings.Contains(d.Error, "quota") {
		t.Fatalf("deferred attempt = %+v", d)
	}
	for _, a := range attempts[9:] {
		if a.Status != StatusSent || a.Priority != PriorityEmergency || a.Template != "emergency-alert" {
			t.Fatalf("emergency attempt = %+v", a)
		}
	}

	// Tomorrow routine mail flows again.
	clk.Set(retryAt)
	if _, err := chain.Deliver(ctx, reminder, PriorityRoutine); err != nil {
		t.Fatalf("deferred mail the next day: %v", err)
	}
}

func TestChainSpreadsOverProvidersWithQuota(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	quota := NewQuota(QuotaConfig{Limit: 10}, NewMemoryCounter(clk), clk)
	primary, secondary := &countingSender{}, &countingSender{}
	outbox, err := NewOutbox(filepath.Join(t.TempDir(), "outbox"), "no-reply@carecircle.test", testLogger(t), clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	rec := &MemoryRecorder{}
	chain := &Chain{Quota: quota, Recorder: rec, Clock: clk, Logger: testLogger(t), Providers: []Provider{
		{Name: "brevo", Sender: primary},
		{Name: "smtp", Sender: secondary},
	}}
	m := Message{To: "ann@example.com", Subject: "Hi", Text: "hello", Template: "welcome"}
	for range 8 {
		chain.Deliver(ctx, m, PriorityRoutine)
	}
	// The primary's routine budget is spent: routine mail moves on to the
	// fallback, while an emergency still takes the primary's reserve.
	if p, err := chain.Deliver(ctx, m, PriorityRoutine); err != nil || p != "smtp" {
		t.Fatalf("routine with the primary spent = %q, %v", p, err)
	}
	for range 2 {
		if p, err := chain.Deliver(ctx, m, PriorityEmergency); err != nil || p != "brevo" {
			t.Fatalf("emergency = %q, %v", p, err)
		}
	}
	// With the primary entirely spent, an emergency goes to the fallback
	// that still has room before exceeding anyone's limit.
	if p, err := chain.Deliver(ctx, m, PriorityEmergency); err != nil || p != "smtp" {
		t.Fatalf("emergency with the primary spent = %q, %v", p, err)
	}
	if primary.count() != 10 || secondary.count() != 2 {
		t.Fatalf("primary %d, secondary %d", primary.count(), secondary.count())
	}

	// An unmetered outbox takes whatever the metered providers cannot.
	chain.Providers = append(chain.Providers, Provider{Name: "outbox", Sender: outbox, Unmetered: true})
	for range 6 {
		chain.Deliver(ctx, m, PriorityRoutine) // smtp's routine budget: 8
	}
	if p, err := chain.Deliver(ctx, m, PriorityRoutine); err != nil || p != "outbox" {
		t.Fatalf("routine with every metered provider spent = %q, %v", p, err)
	}
	if u, _ := quota.Usage(ctx, "outbox"); u.Used != 0 {
		t.Fatalf("outbox counted: %+v", u)
	}
	msgs, err := ReadOutbox(outbox.Dir)
	if err != nil || len(msgs) != 1 || msgs[0].Text != "hello" {
		t.Fatalf("outbox = %v, %v", msgs, err)
	}
}

func TestChainSendsWhenTheCounterIsDown(t *testing.T) {
	t.Parallel()
	sender := &countingSender{}
	chain := &Chain{
		Providers: []Provider{{Name: "brevo", Sender: sender}},
		Quota:     NewQuota(QuotaConfig{}, failingCounter{}, clock.Real{}),
		Logger:    testLogger(t),
	}
	if err := chain.Send(context.Background(), Message{To: "ann@example.com", Text: "x"}); err != nil || sender.count() != 1 {
		t.Fatalf("send with the counter down: %v, %d sent", err, sender.count())
	}
}

// failingRecorder cannot store attempts.
type failingRecorder struct{}

func (failingRecorder) Record(context.Context, Attempt) error { return errors.New("database down") }

func TestChainDeliversWhenRecordingFails(t *testing.T) {
	t.Parallel()
	sender := &countingSender{}
	chain := &Chain{Providers: []Provider{{Name: "smtp", Sender: sender}}, Recorder: failingRecorder{}, Logger: testLogger(t)}
	if p, err := chain.Deliver(context.Background(), Message{To: "ann@example.com", Text: "x"}, PriorityEmergency); err != nil || p != "smtp" {
		t.Fatalf("Deliver = %q, %v", p, err)
	}
}

func TestQuotaUnderConcurrentSenders(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	var warned warnings
	quota := NewQuota(QuotaConfig{OnWarning: warned.add}, NewMemoryCounter(clk), clk)
	sender := &countingSender{}
	chain := &Chain{Providers: []Provider{{Name: "brevo", Sender: sender}}, Quota: quota}
	var wg sync.WaitGroup
	var mu sync.Mutex
	deferred := 0
	for range 8 {
		wg.Go(func() {
			for range 50 {
				if _, err := chain.Deliver(ctx, Message{To: "ann@example.com"}, PriorityRoutine); errors.Is(err, ErrQuotaExceeded) {
					mu.Lock()
					deferred++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if sender.count() != 270 || deferred != 130 || len(warned.list()) != 1 {
		t.Fatalf("sent %d, deferred %d, warnings %d; want 270, 130, 1", sender.count(), deferred, len(warned.list()))
	}
	// Emergencies racing for the reserve and past it: each is sent and
	// counted exactly once.
	for range 8 {
		wg.Go(func() {
			for range 10 {
				if _, err := chain.Deliver(ctx, Message{To: "ann@example.com"}, PriorityEmergency); err != nil {
					t.Errorf("emergency: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if u, _ := quota.Usage(ctx, "brevo"); sender.count() != 350 || u.Used != 350 {
		t.Fatalf("sent %d, counted %d; want 350 each", sender.count(), u.Used)
	}
}

// TestTransactionalMailMovesOnThenFails: a code takes the primary's reserve
// below the critical share, then the fallback's, and when neither has room
// it fails at once (never beyond a limit, as an emergency would).
func TestTransactionalMailMovesOnThenFails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	primary, secondary := &countingSender{}, &countingSender{}
	chain := &Chain{Quota: NewQuota(QuotaConfig{Limit: 10}, NewMemoryCounter(clk), clk), Clock: clk, Logger: testLogger(t),
		Providers: []Provider{{Name: "brevo", Sender: primary}, {Name: "smtp", Sender: secondary}}}
	code := Message{To: "ann@example.com", Subject: "Your code", Text: "123456", Template: "email-verification"}
	for range 16 { // routine mail spends both providers' routine share
		chain.Deliver(ctx, Message{To: "bo@example.com", Text: "r", Template: "medication-reminder"}, PriorityRoutine)
	}
	for _, want := range []string{"brevo", "smtp"} {
		if p, err := chain.Deliver(ctx, code, PriorityTransactional); err != nil || p != want {
			t.Fatalf("code = %q, %v; want %s", p, err, want)
		}
	}
	if _, err := chain.Deliver(ctx, code, PriorityTransactional); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("code with no transactional room left: %v", err)
	}
	if primary.count() != 9 || secondary.count() != 9 {
		t.Fatalf("primary %d, secondary %d: the critical share must stay untouched", primary.count(), secondary.count())
	}
}
