// Package documents is the application layer of documents: uploads, their processing, links and expiry: its commands and
// queries, which check access, apply the rules (the pure ones are in
// internal/care), run one transaction, record events and notifications and
// drop the cache entries they change (see internal/feature).
package documents

import "github.com/carecircle/carecircle/internal/feature"

// Service runs documents: uploads, their processing, links and expiry's commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }
