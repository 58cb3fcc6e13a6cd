// Package emergency is the application layer of emergencies: alerts raised and resolved, and the emergency information card: its commands and
// queries, which check access, apply the rules (the pure ones are in
// internal/care), run one transaction, record events and notifications and
// drop the cache entries they change (see internal/feature).
package emergency

import "github.com/carecircle/carecircle/internal/feature"

// Service runs emergencies: alerts raised and resolved, and the emergency information card's commands and queries.
type Service struct {
	b *feature.Base
}

// New builds the service on the shared base.
func New(b *feature.Base) *Service { return &Service{b: b} }
