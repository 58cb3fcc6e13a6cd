package config

import (
	"errors"
	"net/url"
	"strings"
)

// Files says where document files are kept: under DATA_DIR/documents, or,
// with S3Bucket set, in an S3-compatible bucket.
type Files struct {
	// S3Endpoint is host[:port] (HTTPS) or an http(s) URL whose scheme
	// decides TLS; empty means AWS S3 in S3Region.
	S3Endpoint  string
	S3Bucket    string
	S3AccessKey string
	S3SecretKey string
	S3Region    string
}

func filesVars() []Var {
	return []Var{
		{Name: "S3_BUCKET", Default: "", Help: "keep document files in this S3-compatible bucket instead of DATA_DIR/documents"},
		{Name: "S3_ENDPOINT", Default: "", Help: "S3-compatible service: host[:port] (HTTPS) or http(s)://host[:port]; empty: AWS S3"},
		{Name: "S3_ACCESS_KEY", Default: "", Help: "S3 access key, with S3_SECRET_KEY"},
		{Name: "S3_SECRET_KEY", Default: "", Help: "S3 secret key", Secret: true},
		{Name: "S3_REGION", Default: "us-east-1", Help: "S3 region"},
	}
}

func loadFiles(get func(string) string, bad func(name, value, why string)) (Files, []error) {
	f := Files{
		S3Endpoint:  get("S3_ENDPOINT"),
		S3Bucket:    get("S3_BUCKET"),
		S3AccessKey: get("S3_ACCESS_KEY"),
		S3SecretKey: get("S3_SECRET_KEY"),
		S3Region:    get("S3_REGION"),
	}
	var errs []error
	if f.S3Bucket == "" {
		if f.S3Endpoint != "" || f.S3AccessKey != "" || f.S3SecretKey != "" {
			errs = append(errs, errors.New("S3_BUCKET: required when S3_ENDPOINT or S3 keys are set"))
		}
		return f, errs
	}
	if (f.S3AccessKey == "") != (f.S3SecretKey == "") {
		errs = append(errs, errors.New("S3_ACCESS_KEY, S3_SECRET_KEY: set both or neither"))
	}
	if e := f.S3Endpoint; strings.Contains(e, "://") {
		if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("S3_ENDPOINT", e, "is not host[:port] or an http(s) URL")
		}
	} else if strings.ContainsAny(e, "/?#") {
		bad("S3_ENDPOINT", e, "is not host[:port] or an http(s) URL")
	}
	return f, errs
}

// S3 reports whether documents are kept in an S3-compatible bucket.
func (f Files) S3() bool { return f.S3Bucket != "" }

// filesSummary names where files go, without keys.
func (f Files) filesSummary() string {
	if !f.S3() {
		return "DATA_DIR/documents"
	}
	at := f.S3Endpoint
	if at == "" {
		at = "aws " + f.S3Region
	}
	return "s3 bucket " + f.S3Bucket + " at " + at
}
