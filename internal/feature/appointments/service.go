// Package appointments is the application layer of appointments: single and recurring appointments, transport and reminders: its commands and
// queries, which check access, apply the rules (the pure ones are in
// internal/care), run one transaction, record events and notifications and
// drop the cache entries they change (see internal/feature).
package appointments

import "github.com/carecircle/carecircle/internal/feature"

// Service runs appointments: single and recurring appointments, transport and reminders's commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }
