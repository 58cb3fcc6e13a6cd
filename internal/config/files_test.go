package config

import (
	"strings"
	"testing"
)

func TestFiles(t *testing.T) {
	t.Parallel()
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.S3() || c.S3Region != "us-east-1" {
		t.Fatalf("defaults: S3 %v, region %q", c.S3(), c.S3Region)
	}
	if s := c.LogValue().String(); !strings.Contains(s, "documents=DATA_DIR/documents") {
		t.Errorf("log lacks the local documents: %s", s)
	}

	bucket := map[string]string{
		"S3_BUCKET":     "family-docs",
		"S3_ENDPOINT":   "http://minio:9000",
		"S3_ACCESS_KEY": "AKIAEXAMPLE",
		"S3_SECRET_KEY": "s3cr3t-0123456789",
		"S3_REGION":     "eu-west-1",
	}
	if c, err = Load(env(bucket)); err != nil {
		t.Fatal(err)
	}
	if !c.S3() || c.S3Endpoint != "http://minio:9000" || c.S3Region != "eu-west-1" {
		t.Fatalf("loaded %+v", c.Files)
	}
	s := c.LogValue().String()
	if strings.Contains(s, "s3cr3t-0123456789") {
		t.Errorf("secret key leaked: %s", s)
	}
	if !strings.Contains(s, "family-docs") || !strings.Contains(s, "minio:9000") {
		t.Errorf("log lacks the bucket or endpoint: %s", s)
	}

	for name, tc := range map[string]struct {
		drop, set, value, want string
	}{
		"no bucket":     {drop: "S3_BUCKET", want: "S3_BUCKET: required"},
		"no secret":     {drop: "S3_SECRET_KEY", want: "set both or neither"},
		"no access key": {drop: "S3_ACCESS_KEY", want: "set both or neither"},
		"ftp endpoint":  {set: "S3_ENDPOINT", value: "ftp://minio", want: "S3_ENDPOINT"},
		"path endpoint": {set: "S3_ENDPOINT", value: "minio:9000/docs", want: "S3_ENDPOINT"},
	} {
		m := map[string]string{}
		for k, v := range bucket {
			m[k] = v
		}
		delete(m, tc.drop)
		if tc.set != "" {
			m[tc.set] = tc.value
		}
		if _, err := Load(env(m)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to contain %q", name, err, tc.want)
		}
	}
}
