// Package features builds CareCircle's application layer in one place: a
// service per feature on a shared feature.Base, wired to each other where
// one feature's command runs another's (a leaving member's shifts and
// driving are released by the family service, which account deletion calls
// too). The API and the web pages are both built from it, so they read and
// act through the same services. No feature package imports it.
package features

import (
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/feature/account"
	"github.com/carecircle/carecircle/internal/feature/appointments"
	"github.com/carecircle/carecircle/internal/feature/carerecipient"
	"github.com/carecircle/carecircle/internal/feature/documents"
	"github.com/carecircle/carecircle/internal/feature/emergency"
	"github.com/carecircle/carecircle/internal/feature/family"
	"github.com/carecircle/carecircle/internal/feature/medications"
	"github.com/carecircle/carecircle/internal/feature/notifications"
	"github.com/carecircle/carecircle/internal/feature/shifts"
	"github.com/carecircle/carecircle/internal/feature/timeline"
	"github.com/carecircle/carecircle/internal/notify/webpush"
)

// Services are the application layer's services, one per feature.
type Services struct {
	Family         *family.Service
	CareRecipients *carerecipient.Service
	Medications    *medications.Service
	Appointments   *appointments.Service
	Shifts         *shifts.Service
	Emergency      *emergency.Service
	Timeline       *timeline.Service
	Documents      *documents.Service
	Notifications  *notifications.Service
	Account        *account.Service
}

// Deps are what the services need besides the base. The Release fields of
// Family and Account are filled in by New (shifts' Release and
// appointments' ReleaseTransport for the family, the family's Release for
// the account); whatever they hold is replaced.
type Deps struct {
	Family    family.Deps
	Documents documents.Deps
	// Push sends the test push; nil answers that web push is not set up.
	Push    *webpush.Sender
	Account account.Deps
}

// New builds every feature's service on b.
func New(b *feature.Base, d Deps) Services {
	var s Services
	s.CareRecipients = carerecipient.New(b)
	s.Medications = medications.New(b)
	s.Appointments = appointments.New(b)
	s.Shifts = shifts.New(b)
	d.Family.Release = []family.ReleaseFunc{s.Shifts.Release, s.Appointments.ReleaseTransport}
	s.Family = family.New(b, d.Family)
	s.Emergency = emergency.New(b)
	s.Timeline = timeline.New(b)
	s.Documents = documents.New(b, d.Documents)
	s.Notifications = notifications.New(b, d.Push)
	d.Account.Release = s.Family.Release
	s.Account = account.New(b, d.Account)
	return s
}
