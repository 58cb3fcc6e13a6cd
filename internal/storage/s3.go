package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config locates a bucket on an S3-compatible service.
type S3Config struct {
	// Endpoint is host[:port], or a URL whose scheme then decides TLS.
	Endpoint  string
	Bucket    string
	AccessKey string
	SecretKey string
	Region    string
	// UseSSL talks HTTPS to a bare host[:port] endpoint.
	UseSSL bool
	// ForcePathStyle addresses the bucket in the path (endpoint/bucket/key)
	// rather than as a subdomain, as MinIO and most self-hosted services need.
	ForcePathStyle bool
	// SpoolDir is where an upload is staged so that its size is known
	// before it is sent; the system's temporary directory when empty.
	SpoolDir string
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

// S3 keeps objects in a bucket of an S3-compatible service.
type S3 struct {
	client *minio.Client
	bucket string
	spool  string
}

// NewS3 connects to the service and checks that the bucket exists.
func NewS3(ctx context.Context, cfg S3Config) (*S3, error) {
	endpoint, secure := cfg.Endpoint, cfg.UseSSL
	if strings.Contains(endpoint, "://") {
		u, err := url.Parse(endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("storage: S3 endpoint %q is not host[:port] or an http(s) URL", cfg.Endpoint)
		}
		endpoint, secure = u.Host, u.Scheme == "https"
	}
	lookup := minio.BucketLookupAuto
	if cfg.ForcePathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("storage: S3 client: %w", err)
	}
	checkCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ok, err := client.BucketExists(checkCtx, cfg.Bucket)
	if err != nil {
		return nil, fmt.Errorf("storage: S3 bucket %s: %w", cfg.Bucket, err)
	}
	if !ok {
		return nil, fmt.Errorf("storage: S3 bucket %s does not exist", cfg.Bucket)
	}
	spool := cfg.SpoolDir
	if spool == "" {
		spool = os.TempDir()
	}
	return &S3{client: client, bucket: cfg.Bucket, spool: spool}, nil
}

// Put stages the upload in a temporary file, refusing it past limit, then
// sends it with its length known: one streamed PUT for a document-sized
// object, with no buffer of the object's size in memory.
func (s *S3) Put(ctx context.Context, key string, r io.Reader, limit int64, contentType string) (Info, error) {
	if !ValidKey(key) {
		return Info{}, ErrInvalidKey
	}
	f, err := os.CreateTemp(s.spool, "carecircle-upload-*")
	if err != nil {
		return Info{}, fmt.Errorf("storage: stage %s: %w", key, err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	lr := newLimitedReader(ctxReader{ctx: ctx, r: r}, limit)
	n, err := io.Copy(f, lr)
	if lr.exceeded {
		return Info{}, ErrTooLarge
	}
	if err != nil {
		return Info{}, fmt.Errorf("storage: stage %s: %w", key, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Info{}, fmt.Errorf("storage: stage %s: %w", key, err)
	}
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	opts := minio.PutObjectOptions{ContentType: contentType}
	if n == 0 {
		// A streaming-signed empty body goes out without a Content-Length,
		// which some servers refuse; an empty payload needs no streaming.
		opts.DisableContentSha256 = true
	}
	up, err := s.client.PutObject(ctx, s.bucket, key, f, n, opts)
	if err != nil {
		return Info{}, fmt.Errorf("storage: put %s: %w", key, err)
	}
	mod := up.LastModified
	if mod.IsZero() {
		mod = time.Now()
	}
	return Info{Key: key, Size: n, ModTime: mod.UTC()}, nil
}

// Open starts reading the object; the reader fetches ranges on demand.
func (s *S3) Open(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	if !ValidKey(key) {
		return nil, Info{}, ErrInvalidKey
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s3Err(key, err)
	}
	st, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, Info{}, s3Err(key, err)
	}
	return obj, Info{Key: key, Size: st.Size, ModTime: st.LastModified.UTC()}, nil
}

// Stat describes the object.
func (s *S3) Stat(ctx context.Context, key string) (Info, error) {
	if !ValidKey(key) {
		return Info{}, ErrInvalidKey
	}
	st, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s3Err(key, err)
	}
	return Info{Key: key, Size: st.Size, ModTime: st.LastModified.UTC()}, nil
}

// Delete removes the object; S3 reports success for a missing one too.
func (s *S3) Delete(ctx context.Context, key string) error {
	if !ValidKey(key) {
		return ErrInvalidKey
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		if errors.Is(s3Err(key, err), ErrNotFound) {
			return nil
		}
		return fmt.Errorf("storage: delete %s: %w", key, err)
	}
	return nil
}

// PresignGet returns a presigned GET URL that serves the object with the
// requested type and disposition.
func (s *S3) PresignGet(ctx context.Context, key string, l Link) (string, error) {
	if !ValidKey(key) {
		return "", ErrInvalidKey
	}
	params := url.Values{}
	params.Set("response-content-disposition", ContentDisposition(l.Filename, l.Inline))
	if l.ContentType != "" {
		params.Set("response-content-type", l.ContentType)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, l.TTL, params)
	if err != nil {
		return "", fmt.Errorf("storage: presign %s: %w", key, err)
	}
	return u.String(), nil
}

func s3Err(key string, err error) error {
	resp := minio.ToErrorResponse(err)
	if resp.Code == minio.NoSuchKey || resp.StatusCode == http.StatusNotFound && resp.Code != minio.NoSuchBucket {
		return ErrNotFound
	}
	return fmt.Errorf("storage: %s: %w", key, err)
}
