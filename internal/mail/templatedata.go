package mail

import "time"

// The data each template renders. Times are shown in their own location,
// so callers pass them in the recipient's time zone (t.In(userZone)); links
// are absolute URLs to the web app's pages of the API contract.

// WelcomeData fills "welcome", sent once the account is verified.
type WelcomeData struct {
	Name         string
	DashboardURL string // PUBLIC_URL/dashboard
}

// VerificationData fills "email-verification", which carries a sign-up code.
type VerificationData struct {
	Name      string
	Code      string
	VerifyURL string // PUBLIC_URL/verify-email?email=…
	ExpiresIn time.Duration
}

// PasswordResetData fills "password-reset", asked for by the user.
type PasswordResetData struct {
	Name      string
	ResetURL  string // PUBLIC_URL/reset-password?token=…
	ExpiresIn time.Duration
}

// PasswordResetByAdminData fills "password-reset-by-admin": a system admin
// reset the password and the user chooses a new one with the link.
type PasswordResetByAdminData struct {
	Name      string
	AdminName string // may be empty
	ResetURL  string // PUBLIC_URL/reset-password?token=…
	ExpiresIn time.Duration
}

// InvitationData fills "family-invitation".
type InvitationData struct {
	InviterName string // may be empty
	FamilyName  string
	Role        string // ADMIN, CAREGIVER or VIEWER
	Message     string // the inviter's own words; may be empty
	AcceptURL   string // PUBLIC_URL/accept-invite/{token}
	ExpiresAt   time.Time
}

// EmergencyAlertData fills "emergency-alert", sent to every other member.
type EmergencyAlertData struct {
	Name              string
	RaisedBy          string
	CareRecipientName string
	Type              string // FALL, MEDICAL, MISSING, HOSPITALIZATION, OTHER
	Title             string
	Description       string
	Location          string // may be empty
	RaisedAt          time.Time
	AlertURL          string // PUBLIC_URL/emergency/{id}
}

// MedicationReminderData fills "medication-reminder".
type MedicationReminderData struct {
	Name              string
	CareRecipientName string
	MedicationName    string
	Dosage            string
	Instructions      string // may be empty
	DueAt             time.Time
	MedicationsURL    string // PUBLIC_URL/medications
}

// AppointmentReminderData fills "appointment-reminder".
type AppointmentReminderData struct {
	Name              string
	CareRecipientName string
	Title             string
	DoctorName        string // may be empty
	Location          string // may be empty
	StartsAt          time.Time
	AppointmentURL    string // PUBLIC_URL/calendar?appointment={id}
}

// RefillAlertData fills "refill-alert".
type RefillAlertData struct {
	Name              string
	CareRecipientName string
	MedicationName    string
	Remaining         int    // doses left
	MedicationsURL    string // PUBLIC_URL/medications
}

// ShiftReminderData fills "shift-reminder".
type ShiftReminderData struct {
	Name              string
	CareRecipientName string
	StartsAt          time.Time
	EndsAt            time.Time
	Notes             string // may be empty
	ShiftURL          string // PUBLIC_URL/shifts/{id}
}

// DataExportData fills "data-export": the user's export is ready.
type DataExportData struct {
	Name        string
	DownloadURL string
	ExpiresAt   time.Time
}
