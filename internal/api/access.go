package api

import "github.com/carecircle/carecircle/internal/feature"

// need is the least a family member must be to use a route (see
// feature.Need); the application layer checks it.
type need = feature.Need

const (
	anyMember = feature.AnyMember // [M] any active member
	writer    = feature.Writer    // [nV] a member who is not VIEWER
	admin     = feature.Admin     // [A] a family ADMIN
)
