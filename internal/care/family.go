package care

import "time"

// FamilySummary is one of a user's families as GET /auth/me lists them: the
// user's role there and the people the family cares for.
type FamilySummary struct {
	ID             string          `json:"id"`
	Name           string          `json:"name"`
	Role           Role            `json:"role"`
	CareRecipients []CareRecipient `json:"careRecipients"`
}

// FamilyListing is one of a user's families as GET /families lists them.
type FamilyListing struct {
	Family
	Role           Role            `json:"role"`
	MemberCount    int             `json:"memberCount"`
	Members        []Member        `json:"members"`
	CareRecipients []CareRecipient `json:"careRecipients"`
}

// FamilyDetails is a family with everything its members see on its page.
type FamilyDetails struct {
	Family
	Members        []Member        `json:"members"`
	CareRecipients []CareRecipient `json:"careRecipients"`
	Invitations    []Invitation    `json:"invitations"`
}

// InvitationDetails is what the holder of an invitation link sees before
// accepting it.
type InvitationDetails struct {
	ID          string           `json:"id"`
	FamilyID    string           `json:"familyId"`
	FamilyName  string           `json:"familyName"`
	InviterName string           `json:"inviterName"`
	Role        Role             `json:"role"`
	Email       string           `json:"email"`
	Status      InvitationStatus `json:"status"`
	ExpiresAt   time.Time        `json:"expiresAt"`
}

// CareRecipientDetails is a care recipient with their doctors and emergency
// contacts.
type CareRecipientDetails struct {
	CareRecipient
	Doctors           []Doctor           `json:"doctors"`
	EmergencyContacts []EmergencyContact `json:"emergencyContacts"`
}

// Roles lists the family roles.
func Roles() []string { return []string{string(RoleAdmin), string(RoleCaregiver), string(RoleViewer)} }
