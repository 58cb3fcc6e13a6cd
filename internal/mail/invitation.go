package mail

import (
	"html"
	"net/url"
	"strings"
	"time"
)

// Invitation is what the invitation email tells its recipient.
type Invitation struct {
	To          string
	FamilyName  string
	InviterName string
	Role        string
	Message     string // the inviter's own words; may be empty
	Token       string
	ExpiresAt   time.Time
}

// InvitationMessage builds the email inviting someone to a family, with the
// link PUBLIC_URL/accept-invite/{token} that accepts it.
func InvitationMessage(publicURL string, inv Invitation) Message {
	link := strings.TrimRight(publicURL, "/") + "/accept-invite/" + url.PathEscape(inv.Token)
	inviter := inv.InviterName
	if inviter == "" {
		inviter = "A family member"
	}
	expires := inv.ExpiresAt.UTC().Format("January 2, 2006 at 15:04 UTC")
	role := strings.ToLower(inv.Role)

	var text strings.Builder
	text.WriteString(inviter + " invited you to join the family \"" + inv.FamilyName + "\" on CareCircle as " + role + ".\n\n")
	if inv.Message != "" {
		text.WriteString("Their message:\n" + inv.Message + "\n\n")
	}
	text.WriteString("Accept the invitation here:\n" + link + "\n\n")
	text.WriteString("The link works until " + expires + ". If you did not expect this email, you can ignore it.\n")

	e := html.EscapeString
	var body strings.Builder
	body.WriteString("<!doctype html><html><body style=\"font-family:sans-serif;line-height:1.5\">")
	body.WriteString("<p>" + e(inviter) + " invited you to join the family <strong>" + e(inv.FamilyName) +
		"</strong> on CareCircle as " + e(role) + ".</p>")
	if inv.Message != "" {
		body.WriteString("<blockquote style=\"white-space:pre-wrap\">" + e(inv.Message) + "</blockquote>")
	}
	body.WriteString("<p><a href=\"" + e(link) + "\">Accept the invitation</a></p>")
	body.WriteString("<p>Or paste this link into your browser: " + e(link) + "</p>")
	body.WriteString("<p style=\"color:#666\">The link works until " + e(expires) +
		". If you did not expect this email, you can ignore it.</p></body></html>")

	return Message{
		To:       inv.To,
		Subject:  "You're invited to join " + singleLineHeader(inv.FamilyName) + " on CareCircle",
		Text:     text.String(),
		HTML:     body.String(),
		Template: "family-invitation",
	}
}

// singleLineHeader keeps a value that goes into a header on one line.
func singleLineHeader(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
