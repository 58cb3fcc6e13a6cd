package app

import (
	"context"
	"path/filepath"

	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/storage"
)

// newFileStorage opens where document files are kept: the S3-compatible
// bucket when one is configured (checked to exist, so a typo stops start-up
// rather than the first upload), otherwise DATA_DIR/documents.
func newFileStorage(ctx context.Context, cfg config.Config) (storage.Storage, error) {
	if !cfg.S3() {
		return storage.NewLocal(filepath.Join(cfg.DataDir, "documents"))
	}
	endpoint, secure := cfg.S3Endpoint, true
	if endpoint == "" {
		endpoint = "s3.amazonaws.com"
	}
	return storage.NewS3(ctx, storage.S3Config{
		Endpoint:  endpoint,
		Bucket:    cfg.S3Bucket,
		AccessKey: cfg.S3AccessKey,
		SecretKey: cfg.S3SecretKey,
		Region:    cfg.S3Region,
		UseSSL:    secure,
		// Self-hosted services (MinIO, Garage, SeaweedFS) address buckets
		// in the path; AWS takes either.
		ForcePathStyle: cfg.S3Endpoint != "",
	})
}
