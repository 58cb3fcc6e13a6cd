package mail

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestVerificationCodeMessage(t *testing.T) {
	t.Parallel()
	m := VerificationCodeMessage("http://localhost:4000/", "load-123456@example.com", "Ann <b>Lee</b>", "042917", 5*time.Minute)
	// Scripts take the first six-digit number in the text as the code.
	if got := regexp.MustCompile(`\b(\d{6})\b`).FindStringSubmatch(m.Text); got == nil || got[1] != "042917" {
		t.Fatalf("first code in text = %v:\n%s", got, m.Text)
	}
	if !strings.Contains(m.Text, "5 minutes") || !strings.Contains(m.Text, "http://localhost:4000/verify-email?email=load-123456%40example.com") {
		t.Fatalf("text = %s", m.Text)
	}
	if strings.Contains(m.HTML, "<b>Lee</b>") || !strings.Contains(m.HTML, "042917") {
		t.Fatalf("HTML not escaped or lacks the code: %s", m.HTML)
	}
	if m.To != "load-123456@example.com" || m.Subject == "" || m.Template != "email-verification" {
		t.Fatalf("message = %+v", m)
	}
}

func TestPasswordResetMessage(t *testing.T) {
	t.Parallel()
	m := PasswordResetMessage("https://care.example", "ann@example.com", "Ann", "tok_EN-123", time.Hour)
	link := "https://care.example/reset-password?token=tok_EN-123"
	if !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `href="`+link+`"`) || !strings.Contains(m.Text, "1 hour") {
		t.Fatalf("reset message = %+v", m)
	}
}
