package events

import "context"

// PublishAudit sends e to the audit fanout exchange, as a persistent message
// under its type, and waits for the broker's confirm with the same retries
// and errors as Publish. Whatever is bound to the audit exchange receives a
// copy of every event published this way.
func (p *Publisher) PublishAudit(ctx context.Context, e Event) error {
	return p.publish(ctx, p.opts.Topology.AuditExchange(), e)
}

// WaitConnected blocks until the publisher holds a connection with the
// topology declared, or until ctx ends (returning its error) or the
// publisher is closed (returning ErrClosed).
func (p *Publisher) WaitConnected(ctx context.Context) error {
	_, err := p.session(ctx)
	return err
}
