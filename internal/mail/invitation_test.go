package mail

import (
	"strings"
	"testing"
	"time"
)

func TestInvitationMessage(t *testing.T) {
	t.Parallel()
	m := InvitationMessage("https://care.example/", Invitation{
		To: "bo@example.com", FamilyName: `The <Lees> & "co"`, InviterName: "Ann", Role: "CAREGIVER",
		Message: "See <you>", Token: "abc_DEF-123", ExpiresAt: time.Date(2026, 3, 9, 15, 0, 0, 0, time.UTC),
	})
	link := "https://care.example/accept-invite/abc_DEF-123"
	if m.To != "bo@example.com" || m.Template != "family-invitation" || !strings.Contains(m.Subject, `The <Lees> & "co"`) {
		t.Fatalf("message = %+v", m)
	}
	for _, want := range []string{link, "See <you>", "caregiver", "March 9, 2026"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	for _, want := range []string{`href="` + link + `"`, "The &lt;Lees&gt; &amp; &#34;co&#34;", "See &lt;you&gt;"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, m.HTML)
		}
	}
	if strings.Contains(m.HTML, "<Lees>") || strings.Contains(m.HTML, "<you>") {
		t.Errorf("HTML not escaped:\n%s", m.HTML)
	}
	if m := InvitationMessage("https://care.example", Invitation{To: "x@example.com", FamilyName: "F", Token: "t"}); strings.Contains(m.Text, "message:") || !strings.Contains(m.Text, "A family member invited you") {
		t.Errorf("message without inviter or note:\n%s", m.Text)
	}
}
