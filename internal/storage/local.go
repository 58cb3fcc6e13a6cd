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
	dir := path.Dir(key)
	f, tmp, err := l.createTemp(dir)
	if err != nil {
		l.removeEmptyDirs(dir)
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
		l.removeEmptyDirs(dir)
		if lr.exceeded {
			return Info{}, ErrTooLarge
		}
		return Info{}, fmt.Errorf("storage: put %s: %w", key, err)
	}
	return l.Stat(ctx, key)
}

// createTemp creates a temporary file in dir, creating dir when missing. A
// directory that a failed Put or a Delete removes between the two, as it
// has just become empty, is created again; one that a concurrent Put
// creates first is used.
func (l *Local) createTemp(dir string) (*os.File, string, error) {
	for attempt := 1; ; attempt++ {
		if dir != "." {
			// Root.MkdirAll can answer "file exists" when another Put
			// creates the same folder between its check and its mkdir: the
			// folder is there, so try again.
			err := l.root.MkdirAll(dir, 0o700)
			if errors.Is(err, fs.ErrExist) && attempt < 10 {
				continue
			}
			if err != nil {
				return nil, "", err
			}
		}
		// A leading dot: no valid key can collide with a temporary file.
		tmp := path.Join(dir, ".upload-"+randomHex())
		f, err := l.root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrNotExist) && attempt < 10 {
			continue
		}
		return f, tmp, err
	}
}

// removeEmptyDirs removes dir and then its parents for as long as they are
// empty, so that neither a refused upload nor a deleted object leaves a
// trace. A directory still holding anything (another object, another
// upload's temporary file) stays.
func (l *Local) removeEmptyDirs(dir string) {
	for ; dir != "." && dir != "/"; dir = path.Dir(dir) {
		// Only a real directory: Remove would take a symbolic link itself.
		if st, err := l.root.Lstat(dir); err != nil || !st.IsDir() {
			return
		}
		if err := l.root.Remove(dir); err != nil {
			return
		}
	}
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
	l.removeEmptyDirs(path.Dir(key))
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
