// Package family is the application layer of a family: the family itself, its members and their roles, and invitations: its commands and
// queries, which check access, apply the rules (the pure ones are in
// internal/care), run one transaction, record events and notifications and
// drop the cache entries they change (see internal/feature).
package family

import "github.com/carecircle/carecircle/internal/feature"

// Service runs a family: the family itself, its members and their roles, and invitations's commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }
