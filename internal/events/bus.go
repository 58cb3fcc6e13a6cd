package events

import "context"

// WaitConnected blocks until the publisher holds a connection with the
// topology declared, or until ctx ends (returning its error) or the
// publisher is closed (returning ErrClosed).
func (p *Publisher) WaitConnected(ctx context.Context) error {
	_, err := p.session(ctx)
	return err
}
