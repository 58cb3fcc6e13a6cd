package notify

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/mail"
)

type acceptingSender struct{ sent int }

func (s *acceptingSender) Send(context.Context, mail.Message) error { s.sent++; return nil }

// TestSendNowAndQuotaHealthByClass: a code goes out after routine mail
// spent its share, /health shows what each class has left, and once the
// transactional share is spent SendNow fails at once instead of deferring.
func TestSendNowAndQuotaHealthByClass(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	smtp := &acceptingSender{}
	chain := &mail.Chain{Providers: []mail.Provider{{Name: "smtp", Sender: smtp}},
		Quota: mail.NewQuota(mail.QuotaConfig{Limit: 10}, mail.NewMemoryCounter(clk), clk), Clock: clk}
	m := &Mailer{Chain: chain, Clock: clk}
	for range 8 {
		if _, err := chain.Deliver(ctx, mail.Message{To: "bo@example.com", Text: "r"}, mail.PriorityRoutine); err != nil {
			t.Fatal(err)
		}
	}
	code := mail.Message{To: "ann@example.com", Text: "Your code is 123456", Template: "email-verification"}
	if err := m.SendNow(ctx, code); err != nil || smtp.sent != 9 {
		t.Fatalf("code after routine mail spent its share: %v (sent %d)", err, smtp.sent)
	}
	h := QuotaHealth{Chain: chain}.Health(ctx).([]map[string]any)
	classes := h[0]["classes"].(map[string]any)
	for class, left := range map[string]int64{"routine": 0, "transactional": 0, "critical": 1} {
		if got := classes[class].(map[string]int64)["left"]; got != left {
			t.Errorf("/health %s left %d, want %d (%v)", class, got, left, classes)
		}
	}
	if err := m.SendNow(ctx, code); !errors.Is(err, ErrCannotSendNow) || !errors.Is(err, mail.ErrQuotaExceeded) || smtp.sent != 9 {
		t.Fatalf("code with no transactional room: %v (sent %d)", err, smtp.sent)
	}
}

type failingSender struct{ err error }

func (s failingSender) Send(context.Context, mail.Message) error { return s.err }

// TestSendNowRetryAfter: a spent transactional share asks the person to
// wait until the next UTC day, a failing provider only for a short while,
// and a spent primary with a failing fallback is the provider's short wait.
func TestSendNowRetryAfter(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	code := mail.Message{To: "ann@example.com", Text: "Your code is 123456", Template: "email-verification"}
	wait := func(err error) time.Duration {
		t.Helper()
		var ns *NotSentError
		if !errors.As(err, &ns) || !errors.Is(err, ErrCannotSendNow) {
			t.Fatalf("SendNow: %v; want a NotSentError", err)
		}
		return ns.RetryAfter()
	}

	clk := clock.NewFake(time.Date(2026, 3, 9, 20, 0, 0, 0, time.UTC))
	quota := mail.NewQuota(mail.QuotaConfig{Limit: 10}, mail.NewMemoryCounter(clk), clk)
	spent := &mail.Chain{Providers: []mail.Provider{{Name: "smtp", Sender: &acceptingSender{}}}, Quota: quota, Clock: clk}
	m := &Mailer{Chain: spent, Clock: clk}
	for range 9 {
		if err := m.SendNow(ctx, code); err != nil {
			t.Fatal(err)
		}
	}
	if !spent.Spent(ctx, mail.PriorityTransactional) || spent.Spent(ctx, mail.PriorityEmergency) {
		t.Fatal("Spent: want the transactional share spent and the critical one not")
	}
	if got := wait(m.SendNow(ctx, code)); got != 4*time.Hour {
		t.Fatalf("spent quota: retry after %v, want 4h (to midnight UTC)", got)
	}

	down := fmt.Errorf("connection refused: %w", mail.ErrTemporary)
	failing := &mail.Chain{Providers: []mail.Provider{{Name: "relay", Sender: failingSender{down}}}, Quota: quota, Clock: clk}
	m = &Mailer{Chain: failing, Clock: clk}
	if got := wait(m.SendNow(ctx, code)); got != ProviderRetryDelay {
		t.Fatalf("failing provider: retry after %v, want %v", got, ProviderRetryDelay)
	}

	both := &mail.Chain{Providers: []mail.Provider{{Name: "smtp", Sender: &acceptingSender{}},
		{Name: "brevo", Sender: failingSender{down}}}, Quota: quota, Clock: clk}
	m = &Mailer{Chain: both, Clock: clk}
	if got := wait(m.SendNow(ctx, code)); got != ProviderRetryDelay {
		t.Fatalf("spent primary, failing fallback: retry after %v, want %v", got, ProviderRetryDelay)
	}
}
