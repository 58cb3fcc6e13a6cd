package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

func TestDocuments(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		clk := clock.NewFake(t0)
		s := open(t, clk)
		ctx := context.Background()
		ann := newUser(t, s, "ann@example.com")
		f := newFamily(t, s, "Docs", ann)
		other := newFamily(t, s, "Other", ann)

		expires := t0.Add(20 * 24 * time.Hour).Truncate(time.Microsecond)
		notes := "Front and back"
		card, err := s.CreateDocument(ctx, store.Document{
			FamilyID: f.ID, UploadedByID: &ann.ID, Name: "Insurance card", Type: store.DocInsuranceCard,
			MimeType: "image/png", SizeBytes: 1234, Filename: "card.png", ExpiresAt: &expires, Notes: &notes,
			StorageKey: f.ID + "/a",
		})
		if err != nil {
			t.Fatal(err)
		}
		if card.Status != store.DocProcessing || card.ID == "" || !card.ExpiresAt.Equal(expires) ||
			card.StorageKey != f.ID+"/a" || card.SHA256 != nil || *card.UploadedByID != ann.ID {
			t.Fatalf("created %+v", card)
		}
		clk.Advance(time.Minute)
		lab, err := s.CreateDocument(ctx, store.Document{FamilyID: f.ID, Name: "Labs", Type: store.DocLabResult,
			MimeType: "application/pdf", SizeBytes: 99, Filename: "labs.pdf", StorageKey: f.ID + "/b"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateDocument(ctx, store.Document{FamilyID: other.ID, Name: "Elsewhere", Type: store.DocOther,
			MimeType: "text/plain", SizeBytes: 1, StorageKey: other.ID + "/c", ExpiresAt: &expires}); err != nil {
			t.Fatal(err)
		}

		all, err := s.Documents(ctx, f.ID)
		if err != nil || len(all) != 2 || all[0].ID != lab.ID || all[1].ID != card.ID {
			t.Fatalf("Documents = %+v, %v", all, err)
		}
		cards, err := s.Documents(ctx, f.ID, store.DocInsuranceCard, store.DocDNR)
		if err != nil || len(cards) != 1 || cards[0].ID != card.ID {
			t.Fatalf("Documents(types) = %+v, %v", cards, err)
		}

		soon, err := s.ExpiringDocuments(ctx, f.ID, t0, t0.Add(30*24*time.Hour))
		if err != nil || len(soon) != 1 || soon[0].ID != card.ID {
			t.Fatalf("ExpiringDocuments = %+v, %v", soon, err)
		}
		if later, _ := s.ExpiringDocuments(ctx, f.ID, t0, t0.Add(10*24*time.Hour)); len(later) != 0 {
			t.Fatalf("expiring within 10 days: %+v", later)
		}
		everywhere, err := s.DocumentsExpiringBetween(ctx, t0, t0.Add(30*24*time.Hour))
		if err != nil || len(everywhere) != 2 {
			t.Fatalf("DocumentsExpiringBetween = %+v, %v", everywhere, err)
		}

		// Processing finishes once.
		sum, pages, thumb := "abc123", 3, f.ID+"/a.thumb.jpg"
		done, err := s.FinishDocument(ctx, card.ID, store.DocumentOutcome{Status: store.DocReady, SHA256: &sum,
			PageCount: &pages, ThumbnailKey: &thumb})
		if err != nil || done.Status != store.DocReady || *done.SHA256 != sum || *done.PageCount != 3 ||
			*done.ThumbnailKey != thumb {
			t.Fatalf("FinishDocument = %+v, %v", done, err)
		}
		reason := "late"
		if _, err := s.FinishDocument(ctx, card.ID, store.DocumentOutcome{Status: store.DocFailed, FailureReason: &reason}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("finishing twice: %v", err)
		}

		// A FAILED document needs no reminder.
		if _, err := s.FinishDocument(ctx, lab.ID, store.DocumentOutcome{Status: store.DocFailed, FailureReason: &reason}); err != nil {
			t.Fatal(err)
		}

		// Editing touches only the editable fields.
		upd, err := s.UpdateDocument(ctx, card.ID, func(d *store.Document) error {
			d.Name, d.Type, d.Notes, d.ExpiresAt = "Card 2026", store.DocPhotoID, nil, nil
			d.Status, d.StorageKey = store.DocFailed, "elsewhere"
			return nil
		})
		if err != nil || upd.Name != "Card 2026" || upd.Type != store.DocPhotoID || upd.Notes != nil ||
			upd.ExpiresAt != nil || upd.Status != store.DocReady || upd.StorageKey != f.ID+"/a" {
			t.Fatalf("UpdateDocument = %+v, %v", upd, err)
		}
		refused := errors.New("refused")
		if _, err := s.UpdateDocument(ctx, card.ID, func(*store.Document) error { return refused }); !errors.Is(err, refused) {
			t.Fatalf("aborted update: %v", err)
		}

		gone, err := s.DeleteDocument(ctx, card.ID)
		if err != nil || gone.StorageKey != f.ID+"/a" || *gone.ThumbnailKey != thumb {
			t.Fatalf("DeleteDocument = %+v, %v", gone, err)
		}
		if _, err := s.Document(ctx, card.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if _, err := s.DeleteDocument(ctx, card.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("deleting twice: %v", err)
		}
		if _, err := s.FinishDocument(ctx, card.ID, store.DocumentOutcome{Status: store.DocReady}); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("finishing a deleted document: %v", err)
		}

		// Deleting the family deletes its documents.
		if err := s.DeleteFamily(ctx, f.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Document(ctx, lab.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("document of a deleted family: %v", err)
		}
	})
}

// TestDocumentJoinsTheAmbientTransaction: a document created inside
// Atomically is visible through Tx's transaction and gone when it rolls back.
func TestDocumentJoinsTheAmbientTransaction(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open openFunc) {
		s := open(t, clock.NewFake(t0))
		ctx := context.Background()
		ann := newUser(t, s, "ann@example.com")
		f := newFamily(t, s, "Docs", ann)
		if s.Tx(ctx) != nil {
			t.Fatal("Tx outside Atomically is not nil")
		}
		var id string
		rollback := errors.New("rollback")
		err := s.Atomically(ctx, func(ctx context.Context) error {
			d, err := s.CreateDocument(ctx, store.Document{FamilyID: f.ID, Name: "X", Type: store.DocOther,
				MimeType: "text/plain", SizeBytes: 1, StorageKey: f.ID + "/x"})
			if err != nil {
				return err
			}
			id = d.ID
			tx := s.Tx(ctx)
			if tx == nil {
				t.Fatal("Tx inside Atomically is nil")
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM documents WHERE id = $1`, id).Scan(&n); err != nil || n != 1 {
				t.Fatalf("row seen through Tx: %d, %v", n, err)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		if _, err := s.Document(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("rolled-back document: %v", err)
		}
	})
}
