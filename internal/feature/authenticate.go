package feature

import (
	"context"

	"github.com/carecircle/carecircle/internal/auth"
)

// Authenticate checks an access token as every door does (see
// auth.Authenticate), its session from the node's memory when the base's
// cache is there (auth.Sessions), and returns the actor it signs in: the
// errors are auth's (ErrNoToken, ErrInvalidToken, ErrSessionEnded,
// ErrInactive) or the database's.
func (b *Base) Authenticate(ctx context.Context, tokens *auth.Tokens, token string) (Actor, error) {
	in, err := auth.Authenticate(ctx, tokens, b.sessions, token)
	if err != nil {
		return Actor{}, err
	}
	return Actor{User: in.User, Session: in.Session}, nil
}
