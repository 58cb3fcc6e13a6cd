// Package account is the application layer of the account: sign-up, sign-in, sessions, password, phone, profile, data export and deletion: its commands and
// queries, which check access, apply the rules (the pure ones are in
// internal/care), run one transaction, record events and notifications and
// drop the cache entries they change (see internal/feature).
package account

import "github.com/carecircle/carecircle/internal/feature"

// Service runs the account: sign-up, sign-in, sessions, password, phone, profile, data export and deletion's commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }
