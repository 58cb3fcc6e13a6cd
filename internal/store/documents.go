package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// DocumentType is what a family document is.
type DocumentType string

// Document types of the contract.
const (
	DocInsuranceCard   DocumentType = "INSURANCE_CARD"
	DocPhotoID         DocumentType = "PHOTO_ID"
	DocMedicalRecord   DocumentType = "MEDICAL_RECORD"
	DocLabResult       DocumentType = "LAB_RESULT"
	DocPrescription    DocumentType = "PRESCRIPTION"
	DocPowerOfAttorney DocumentType = "POWER_OF_ATTORNEY"
	DocLivingWill      DocumentType = "LIVING_WILL"
	DocDNR             DocumentType = "DNR"
	DocOther           DocumentType = "OTHER"
)

// DocumentTypes lists every document type in the contract's order.
func DocumentTypes() []DocumentType {
	return []DocumentType{DocInsuranceCard, DocPhotoID, DocMedicalRecord, DocLabResult, DocPrescription,
		DocPowerOfAttorney, DocLivingWill, DocDNR, DocOther}
}

// DocumentStatus is where a document is in its processing.
type DocumentStatus string

// Document statuses: an upload is PROCESSING until the document-upload job
// has checked it, then READY, or FAILED when its content is not what it
// claimed to be.
const (
	DocProcessing DocumentStatus = "PROCESSING"
	DocReady      DocumentStatus = "READY"
	DocFailed     DocumentStatus = "FAILED"
)

// Document is a file a family keeps: an insurance card, a power of
// attorney, a lab result.
type Document struct {
	ID           string         `json:"id"`
	FamilyID     string         `json:"familyId"`
	UploadedByID *string        `json:"uploadedById"`
	Name         string         `json:"name"`
	Type         DocumentType   `json:"type"`
	Status       DocumentStatus `json:"status"`
	MimeType     string         `json:"mimeType"`
	SizeBytes    int64          `json:"sizeBytes"`
	// Filename is the uploaded file's cleaned name, offered on download.
	Filename  string     `json:"filename"`
	ExpiresAt *time.Time `json:"expiresAt"`
	Notes     *string    `json:"notes"`
	SHA256    *string    `json:"sha256"`
	PageCount *int       `json:"pageCount"`
	// FailureReason says why a FAILED document was refused.
	FailureReason *string   `json:"failureReason"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	// StorageKey and ThumbnailKey locate the file and its thumbnail in
	// document storage; never sent to clients.
	StorageKey   string  `json:"-"`
	ThumbnailKey *string `json:"-"`
}

const documentColumns = `id, family_id, uploaded_by_id, name, type, status, mime_type, size_bytes, filename,
	expires_at, notes, sha256, page_count, failure_reason, created_at, updated_at, storage_key, thumbnail_key`

func scanDocument(row interface{ Scan(...any) error }) (*Document, error) {
	var d Document
	err := row.Scan(&d.ID, &d.FamilyID, &d.UploadedByID, &d.Name, &d.Type, &d.Status, &d.MimeType, &d.SizeBytes,
		&d.Filename, nullTimeCol{&d.ExpiresAt}, &d.Notes, &d.SHA256, &d.PageCount, &d.FailureReason,
		timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}, &d.StorageKey, &d.ThumbnailKey)
	if err != nil {
		return nil, mapErr(err)
	}
	return &d, nil
}

// docTimeArg formats an optional time for a query argument.
func docTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// CreateDocument records an uploaded file as PROCESSING; the id and
// timestamps are assigned here.
func (s *Store) CreateDocument(ctx context.Context, d Document) (*Document, error) {
	out, err := scanDocument(s.wq(ctx).QueryRowContext(ctx, `INSERT INTO documents (id, family_id,
		uploaded_by_id, name, type, status, mime_type, size_bytes, filename, expires_at, notes,
		storage_key, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING `+documentColumns,
		newID(), d.FamilyID, d.UploadedByID, d.Name, d.Type, DocProcessing, d.MimeType, d.SizeBytes,
		d.Filename, docTimeArg(d.ExpiresAt), d.Notes, d.StorageKey, ts(s.now())))
	if err != nil {
		return nil, fmt.Errorf("store: create document: %w", err)
	}
	return out, nil
}

// Document loads a document by id.
func (s *Store) Document(ctx context.Context, id string) (*Document, error) {
	d, err := scanDocument(s.rq(ctx).QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("store: document %s: %w", id, err)
	}
	return d, nil
}

// Documents lists a family's documents, newest first; only those of the
// given types when any are given.
func (s *Store) Documents(ctx context.Context, familyID string, types ...DocumentType) ([]Document, error) {
	q := `SELECT ` + documentColumns + ` FROM documents WHERE family_id = $1`
	args := []any{familyID}
	if len(types) > 0 {
		q += ` AND type IN (` + placeholders(2, len(types)) + `)`
		for _, t := range types {
			args = append(args, t)
		}
	}
	rows, err := s.rq(ctx).QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: documents: %w", mapErr(err))
	}
	out, err := collect(rows, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("store: documents: %w", err)
	}
	return out, nil
}

// ExpiringDocuments lists a family's documents that expire in [from, to],
// soonest first.
func (s *Store) ExpiringDocuments(ctx context.Context, familyID string, from, to time.Time) ([]Document, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE family_id = $1 AND expires_at >= $2 AND expires_at <= $3
		ORDER BY expires_at, id`, familyID, ts(from), ts(to))
	if err != nil {
		return nil, fmt.Errorf("store: expiring documents: %w", mapErr(err))
	}
	out, err := collect(rows, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("store: expiring documents: %w", err)
	}
	return out, nil
}

// DocumentsExpiringBetween lists the documents of every family that expire
// in [from, to] and were not refused, soonest first.
func (s *Store) DocumentsExpiringBetween(ctx context.Context, from, to time.Time) ([]Document, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE expires_at >= $1 AND expires_at <= $2 AND status <> $3
		ORDER BY expires_at, id`, ts(from), ts(to), DocFailed)
	if err != nil {
		return nil, fmt.Errorf("store: documents expiring: %w", mapErr(err))
	}
	out, err := collect(rows, scanDocument)
	if err != nil {
		return nil, fmt.Errorf("store: documents expiring: %w", err)
	}
	return out, nil
}

// UpdateDocument loads a document, lets edit change its name, type, notes
// and expiry, and writes them in one transaction. An error from edit aborts
// the update and is returned as is.
func (s *Store) UpdateDocument(ctx context.Context, id string, edit func(*Document) error) (*Document, error) {
	var out *Document
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		d, err := scanDocument(tx.QueryRowContext(ctx, s.forUpdate(`SELECT `+documentColumns+`
			FROM documents WHERE id = $1`), id))
		if err != nil {
			return err
		}
		if err := edit(d); err != nil {
			return err
		}
		out, err = scanDocument(tx.QueryRowContext(ctx, `UPDATE documents SET name = $2, type = $3,
			notes = $4, expires_at = $5, updated_at = $6 WHERE id = $1 RETURNING `+documentColumns,
			id, d.Name, d.Type, d.Notes, docTimeArg(d.ExpiresAt), ts(s.now())))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update document: %w", err)
	}
	return out, nil
}

// DocumentOutcome is what processing found out about a document.
type DocumentOutcome struct {
	// Status is DocReady or DocFailed.
	Status        DocumentStatus
	SHA256        *string
	PageCount     *int
	ThumbnailKey  *string
	FailureReason *string
}

// FinishDocument records the outcome of processing a document that is still
// PROCESSING; ErrNotFound when there is no such document (any longer), or it
// was already finished.
func (s *Store) FinishDocument(ctx context.Context, id string, o DocumentOutcome) (*Document, error) {
	d, err := scanDocument(s.wq(ctx).QueryRowContext(ctx, `UPDATE documents SET status = $2, sha256 = $3,
		page_count = $4, thumbnail_key = $5, failure_reason = $6, updated_at = $7
		WHERE id = $1 AND status = $8 RETURNING `+documentColumns,
		id, o.Status, o.SHA256, o.PageCount, o.ThumbnailKey, o.FailureReason, ts(s.now()), DocProcessing))
	if err != nil {
		return nil, fmt.Errorf("store: finish document: %w", err)
	}
	return d, nil
}

// DeleteDocument deletes a document and returns it, so that its files can
// be removed; ErrNotFound when there is none.
func (s *Store) DeleteDocument(ctx context.Context, id string) (*Document, error) {
	d, err := scanDocument(s.wq(ctx).QueryRowContext(ctx, `DELETE FROM documents WHERE id = $1
		RETURNING `+documentColumns, id))
	if err != nil {
		return nil, fmt.Errorf("store: delete document: %w", err)
	}
	return d, nil
}
