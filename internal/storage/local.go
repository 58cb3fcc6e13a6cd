package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
)

// Local keeps objects as files under one directory. All access goes through
// an os.Root, so neither a crafted key nor a symbolic link planted in the
// directory can reach a file outside it.
type Local struct {
	root *os.Root
}

// NewLocal opens (creating it when missing) the directory objects live in.
func NewLocal(dir string) (*Local, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("storage: create %s: %w", dir, err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("storage: open %s: %w", dir, err)
	}
	return &Local{root: root}, nil
}

// Close releases the directory.
func (l *Local) Close() error { return l.root.Close() }

// Put writes the object to a temporary file beside its final name and
// renames it into place once complete, so readers never see a partial file.
func (l *Local) Put(ctx context.Context, key string, r io.Reader, limit int64, _ string) (Info, error) {
	if !ValidKey(key) {
		return Info{}, ErrInvalidKey
	}
	if dir := path.Dir(key); dir != "." {
		if err := l.root.MkdirAll(dir, 0o700); err != nil {
			return Info{}, fmt.Errorf("storage: put %s: %w", key, err)
		}
	}
	// A leading dot: no valid key can collide with a temporary file.
	tmp := path.Join(path.Dir(key), ".upload-"+randomHex())
	f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Info{}, fmt.Errorf("storage: put %s: %w", key, err)
	}
	lr := newLimitedReader(ctxReader{ctx: ctx, r: r}, limit)
	_, err = io.Copy(f, lr)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = l.root.Rename(tmp, key)
	}
	if err != nil {
		_ = l.root.Remove(tmp)
		if lr.exceeded {
			return Info{}, ErrTooLarge
		}
		return Info{}, fmt.Errorf("storage: put %s: %w", key, err)
	}
	return l.Stat(ctx, key)
}

// Open opens the object's file.
func (l *Local) Open(_ context.Context, key string) (io.ReadCloser, Info, error) {
	if !ValidKey(key) {
		return nil, Info{}, ErrInvalidKey
	}
	f, err := l.root.Open(key)
	if err != nil {
		return nil, Info{}, localErr(key, err)
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		f.Close()
		return nil, Info{}, localErr(key, err)
	}
	return f, Info{Key: key, Size: st.Size(), ModTime: st.ModTime().UTC()}, nil
}

// Stat describes the object's file.
func (l *Local) Stat(_ context.Context, key string) (Info, error) {
	if !ValidKey(key) {
		return Info{}, ErrInvalidKey
	}
	st, err := l.root.Stat(key)
	if err == nil && !st.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return Info{}, localErr(key, err)
	}
	return Info{Key: key, Size: st.Size(), ModTime: st.ModTime().UTC()}, nil
}

// Delete removes the object's file.
func (l *Local) Delete(_ context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := l.root.Remove(key); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// PresignGet is not possible on a plain directory; the API signs links to
// its own download route instead.
func (l *Local) PresignGet(context.Context, string, Link) (string, error) {
	return "", ErrPresignUnsupported
}

func localErr(key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return fmt.Errorf("storage: %s: %w", key, err)
}

func randomHex() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
