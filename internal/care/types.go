// Package care holds CareCircle's domain types and the rules that govern them:
// roles, account states, validation of names, zones and passwords. It does no I/O.
package care

import (
	"encoding/json"
	"time"
)

// Role is a member's role within a family.
type Role string

// Family roles, from most to least privileged.
const (
	RoleAdmin     Role = "ADMIN"
	RoleCaregiver Role = "CAREGIVER"
	RoleViewer    Role = "VIEWER"
)

// Valid reports whether r is a known family role.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleCaregiver || r == RoleViewer
}

// CanWrite reports whether the role may change care data (everyone but VIEWER).
func (r Role) CanWrite() bool { return r == RoleAdmin || r == RoleCaregiver }

// UserStatus is the lifecycle state of an account.
type UserStatus string

// Account states.
const (
	UserPending   UserStatus = "PENDING"
	UserActive    UserStatus = "ACTIVE"
	UserSuspended UserStatus = "SUSPENDED"
	UserDeleted   UserStatus = "DELETED"
)

// SystemRole is a user's role across the whole installation.
type SystemRole string

// System roles.
const (
	SystemUser       SystemRole = "USER"
	SystemModerator  SystemRole = "MODERATOR"
	SystemAdmin      SystemRole = "ADMIN"
	SystemSuperAdmin SystemRole = "SUPER_ADMIN"
)

// IsAdmin reports whether the system role may use the administration routes.
func (r SystemRole) IsAdmin() bool { return r == SystemAdmin || r == SystemSuperAdmin }

// User is an account. The password hash never leaves the server.
type User struct {
	ID                  string          `json:"id"`
	Email               string          `json:"email"`
	PasswordHash        string          `json:"-"`
	FullName            string          `json:"fullName"`
	Phone               *string         `json:"phone"`
	Timezone            string          `json:"timezone"`
	AvatarURL           *string         `json:"avatarUrl"`
	Status              UserStatus      `json:"status"`
	SystemRole          SystemRole      `json:"systemRole"`
	EmailVerified       bool            `json:"emailVerified"`
	EmailVerifiedAt     *time.Time      `json:"emailVerifiedAt"`
	PhoneVerified       bool            `json:"phoneVerified"`
	LastLoginAt         *time.Time      `json:"lastLoginAt"`
	OnboardingCompleted bool            `json:"onboardingCompleted"`
	Preferences         json.RawMessage `json:"preferences"`
	FailedLogins        int             `json:"-"`
	LockedUntil         *time.Time      `json:"-"`
	CreatedAt           time.Time       `json:"createdAt"`
	UpdatedAt           time.Time       `json:"updatedAt"`
}

// Session is one signed-in device; its refresh tokens rotate within it.
type Session struct {
	ID         string     `json:"id"`
	UserID     string     `json:"-"`
	DeviceInfo *string    `json:"deviceInfo"`
	IPAddress  *string    `json:"ipAddress"`
	UserAgent  *string    `json:"userAgent"`
	RememberMe bool       `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt time.Time  `json:"lastUsedAt"`
	ExpiresAt  time.Time  `json:"expiresAt"`
	RevokedAt  *time.Time `json:"-"`
	Current    bool       `json:"current"`
}

// Family is a group of people caring for one or more care recipients.
type Family struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Member is a user's membership in a family.
type Member struct {
	ID       string    `json:"id"`
	FamilyID string    `json:"familyId"`
	UserID   string    `json:"userId"`
	Role     Role      `json:"role"`
	Nickname *string   `json:"nickname"`
	CanEdit  bool      `json:"canEdit"`
	IsActive bool      `json:"isActive"`
	JoinedAt time.Time `json:"joinedAt"`
	User     *UserRef  `json:"user,omitempty"`
	// Preferences are the member's account preferences, when loaded for
	// notification routing; never serialised.
	Preferences json.RawMessage `json:"-"`
}

// UserRef is the public face of a user shown to the people they care with.
type UserRef struct {
	ID        string  `json:"id"`
	Email     string  `json:"email,omitempty"`
	FullName  string  `json:"fullName"`
	Phone     *string `json:"phone,omitempty"`
	AvatarURL *string `json:"avatarUrl,omitempty"`
	Timezone  string  `json:"timezone,omitempty"`
}

// InvitationStatus is the state of a family invitation.
type InvitationStatus string

// Invitation states.
const (
	InvitationPending   InvitationStatus = "PENDING"
	InvitationAccepted  InvitationStatus = "ACCEPTED"
	InvitationCancelled InvitationStatus = "CANCELLED"
	InvitationExpired   InvitationStatus = "EXPIRED"
	InvitationDeclined  InvitationStatus = "DECLINED"
)

// InvitationTTL is how long an invitation link stays valid.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation asks someone, by email, to join a family.
type Invitation struct {
	ID          string           `json:"id"`
	FamilyID    string           `json:"familyId"`
	Email       string           `json:"email"`
	Role        Role             `json:"role"`
	Status      InvitationStatus `json:"status"`
	InvitedByID string           `json:"invitedById"`
	Message     *string          `json:"message,omitempty"`
	ExpiresAt   time.Time        `json:"expiresAt"`
	CreatedAt   time.Time        `json:"createdAt"`
}

// CareRecipient is the person the family looks after. Their schedule is kept
// in Timezone.
type CareRecipient struct {
	ID                string    `json:"id"`
	FamilyID          string    `json:"familyId"`
	FullName          string    `json:"fullName"`
	PreferredName     *string   `json:"preferredName"`
	DateOfBirth       *string   `json:"dateOfBirth"`
	PhotoURL          *string   `json:"photoUrl"`
	BloodType         *string   `json:"bloodType"`
	Allergies         []string  `json:"allergies"`
	Conditions        []string  `json:"conditions"`
	Notes             *string   `json:"notes"`
	PrimaryHospital   *string   `json:"primaryHospital"`
	HospitalAddress   *string   `json:"hospitalAddress"`
	InsuranceProvider *string   `json:"insuranceProvider"`
	InsurancePolicyNo *string   `json:"insurancePolicyNo"`
	Timezone          string    `json:"timezone"`
	CreatedAt         time.Time `json:"createdAt"`
	UpdatedAt         time.Time `json:"updatedAt"`
}

// CalledBy is how the family names the care recipient in messages: the
// preferred name when there is one, else the full name.
func (c *CareRecipient) CalledBy() string {
	if c.PreferredName != nil && *c.PreferredName != "" {
		return *c.PreferredName
	}
	return c.FullName
}

// Doctor is one of a care recipient's doctors.
type Doctor struct {
	ID              string    `json:"id"`
	CareRecipientID string    `json:"careRecipientId"`
	Name            string    `json:"name"`
	Specialty       *string   `json:"specialty"`
	Phone           *string   `json:"phone"`
	Fax             *string   `json:"fax"`
	Email           *string   `json:"email"`
	Address         *string   `json:"address"`
	Notes           *string   `json:"notes"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}

// EmergencyContact is someone to call for a care recipient. At most one per
// care recipient is primary.
type EmergencyContact struct {
	ID              string    `json:"id"`
	CareRecipientID string    `json:"careRecipientId"`
	Name            string    `json:"name"`
	Relationship    string    `json:"relationship"`
	Phone           string    `json:"phone"`
	Email           *string   `json:"email"`
	IsPrimary       bool      `json:"isPrimary"`
	Notes           *string   `json:"notes"`
	CreatedAt       time.Time `json:"createdAt"`
	UpdatedAt       time.Time `json:"updatedAt"`
}
