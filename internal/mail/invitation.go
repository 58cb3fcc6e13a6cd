package mail

import (
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
	m := mustRender("family-invitation", InvitationData{
		InviterName: inv.InviterName,
		FamilyName:  inv.FamilyName,
		Role:        inv.Role,
		Message:     inv.Message,
		AcceptURL:   strings.TrimRight(publicURL, "/") + "/accept-invite/" + url.PathEscape(inv.Token),
		ExpiresAt:   inv.ExpiresAt.UTC(),
	})
	m.To = inv.To
	return m
}

// singleLineHeader keeps a value that goes into a header on one line.
func singleLineHeader(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
