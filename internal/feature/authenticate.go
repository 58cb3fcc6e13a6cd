package feature

import (
	"context"

	"github.com/carecircle/carecircle/internal/auth"
)

// Authenticate checks an access token as every door does (see
// auth.Authenticate) and returns the actor it signs in: the errors are
// auth's (ErrNoToken, ErrInvalidToken, ErrSessionEnded, ErrInactive) or the
// database's.
func (b *Base) Authenticate(ctx context.Context, tokens *auth.Tokens, token string) (Actor, error) {
	in, err := auth.Authenticate(ctx, tokens, b.Store, token)
	if err != nil {
		return Actor{}, err
	}
	return Actor{User: in.User, Session: in.Session}, nil
}
