package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// entries lists everything under dir, directories included, relative to it.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestLocalLeavesNoEmptyFolders checks that a refused Put and a Delete
// remove the folders they leave empty, and only those.
func TestLocalLeavesNoEmptyFolders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	if _, err := l.Put(ctx, "a/b/c", bytes.NewReader(make([]byte, 11)), 10, ""); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("a refused put left %v", got)
	}
	if _, err := l.Put(ctx, "fam/one", bytes.NewReader([]byte("1")), 10, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Put(ctx, "fam/two", bytes.NewReader(make([]byte, 11)), 10, ""); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if got := entries(t, dir); len(got) != 2 || got[0] != "fam" || got[1] != "fam/one" {
		t.Fatalf("a folder still in use: %v", got)
	}
	if err := l.Delete(ctx, "fam/one"); err != nil {
		t.Fatal(err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("a delete left %v", got)
	}
}

// TestLocalConcurrentPutsAndDeletesInOneFolder runs puts that succeed, puts
// that are refused and deletes in one folder at once: a folder removed as
// it empties must not fail another put that is about to use it.
func TestLocalConcurrentPutsAndDeletesInOneFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 300)
	for i := range 100 {
		wg.Go(func() {
			key := fmt.Sprintf("fam/%d", i)
			if _, err := l.Put(ctx, key, bytes.NewReader([]byte("x")), 10, ""); err != nil {
				errs <- fmt.Errorf("put %s: %w", key, err)
				return
			}
			if err := l.Delete(ctx, key); err != nil {
				errs <- err
			}
		})
		wg.Go(func() {
			if _, err := l.Put(ctx, fmt.Sprintf("fam/big%d", i), bytes.NewReader(make([]byte, 11)), 10, ""); !errors.Is(err, ErrTooLarge) {
				errs <- fmt.Errorf("refused put: %w", err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Fatalf("left behind: %v", got)
	}
}
