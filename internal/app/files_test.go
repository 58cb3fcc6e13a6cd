package app

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/storage"
)

// With S3_* set, document files go to the bucket, not DATA_DIR.
func TestFileStorageFollowsTheConfiguration(t *testing.T) {
	t.Parallel()
	mem := s3mem.New()
	if err := mem.CreateBucket("family-docs"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(mem).Server())
	t.Cleanup(srv.Close)
	ctx := context.Background()
	load := func(vars map[string]string) config.Config {
		t.Helper()
		cfg, err := config.Load(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	dir := t.TempDir()
	local, err := newFileStorage(ctx, load(map[string]string{"DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := local.(*storage.Local); !ok {
		t.Fatalf("without S3_BUCKET: %T, want local files", local)
	}

	s3 := map[string]string{"DATA_DIR": dir, "S3_BUCKET": "family-docs", "S3_ENDPOINT": srv.URL,
		"S3_ACCESS_KEY": "access", "S3_SECRET_KEY": "secret"}
	files, err := newFileStorage(ctx, load(s3))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := files.Put(ctx, "fam/doc.txt", strings.NewReader("insurance card"), 1<<20, "text/plain"); err != nil {
		t.Fatal(err)
	}
	obj, err := mem.GetObject("family-docs", "fam/doc.txt", nil)
	if err != nil {
		t.Fatalf("the file is not in the bucket: %v", err)
	}
	got, _ := io.ReadAll(obj.Contents)
	_ = obj.Contents.Close()
	if !bytes.Equal(got, []byte("insurance card")) {
		t.Fatalf("bucket holds %q", got)
	}

	s3["S3_BUCKET"] = "no-such-bucket"
	if _, err := newFileStorage(ctx, load(s3)); err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
		t.Fatalf("a missing bucket: %v, want start-up to stop naming it", err)
	}
}
