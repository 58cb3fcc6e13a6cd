package timeline

import (
	"context"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature"
)

// Activity answers one page of what happened around the family's care
// recipients, newest first: timeline entries, doses given, skipped or
// missed, appointments scheduled and emergency alerts raised, with the
// number of items in the whole feed. Any member may read it; read returns
// the page once membership is checked.
func (s *Service) Activity(ctx context.Context, a feature.Actor, familyID string, read feature.Input[Page]) (*care.ActivityPage, error) {
	if _, err := s.b.Member(ctx, a, familyID, feature.AnyMember); err != nil {
		return nil, err
	}
	p, err := read()
	if err != nil {
		return nil, err
	}
	return s.b.Store.FamilyActivity(ctx, familyID, p.Limit, p.Offset)
}
