package feature

import (
	"context"

	"github.com/carecircle/carecircle/internal/store"
)

// AuditEntry is one line of the audit log: who did what to which resource
// (see store.AuditEntry).
type AuditEntry = store.AuditEntry

// AuditQuery filters and pages the audit log (see store.AuditQuery).
type AuditQuery = store.AuditQuery

// Audit appends e to the audit log.
func (b *Base) Audit(ctx context.Context, e AuditEntry) error {
	_, err := b.Store.AppendAudit(ctx, e)
	return err
}

// FamilyOf is the family of the care recipient id, or "" when it cannot be
// read (gone, or never there): an audit line stands without it.
func (b *Base) FamilyOf(ctx context.Context, careRecipientID string) string {
	cr, err := b.Store.CareRecipient(ctx, careRecipientID)
	if err != nil {
		return ""
	}
	return cr.FamilyID
}
