// Command uploadbench measures document uploads against the real binary:
// it starts `carecircle serve` on a temporary DATA_DIR (SQLite, or
// -postgres), signs a user up, then sends -n concurrent multipart uploads
// of -size bytes each and reports throughput (MB/s, uploads/s), upload
// latency, the time until the document-upload job has made every document
// READY, and the server's resident memory from /proc/<pid>/status before
// and after (VmRSS, and VmHWM, the peak).
//
//	go build -o /tmp/carecircle ./cmd/carecircle
//	go run ./cmd/uploadbench -bin /tmp/carecircle -n 20 -size 10485760
//
// Rate limits are switched off on the server (RATE_LIMIT_ENABLED=false):
// the per-client tiers would refuse 20 simultaneous uploads from one
// address. Linux only (it reads /proc).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/carecircle/carecircle/internal/mail"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "uploadbench:", err)
		os.Exit(1)
	}
}

type options struct {
	bin      string
	n        int
	size     int
	rounds   int
	postgres string
	timeout  time.Duration
}

func run(ctx context.Context, args []string, out io.Writer) error {
	var o options
	fs := flag.NewFlagSet("uploadbench", flag.ContinueOnError)
	fs.StringVar(&o.bin, "bin", "", "carecircle binary to run (default: build ./cmd/carecircle into a temp dir)")
	fs.IntVar(&o.n, "n", 20, "concurrent uploads per round")
	fs.IntVar(&o.size, "size", 10<<20, "bytes per file (the limit is 10485760)")
	fs.IntVar(&o.rounds, "rounds", 1, "rounds of -n concurrent uploads")
	fs.StringVar(&o.postgres, "postgres", "", "DATABASE_URL for the server (default: SQLite in the temp DATA_DIR)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if o.n < 1 || o.rounds < 1 || o.size < 1024 {
		return errors.New("-n and -rounds must be positive, -size at least 1024")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	tmp, err := os.MkdirTemp("", "uploadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if o.bin == "" {
		o.bin = filepath.Join(tmp, "carecircle")
		build := exec.CommandContext(ctx, "go", "build", "-o", o.bin, "./cmd/carecircle")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	srv, err := startServer(ctx, o, filepath.Join(tmp, "data"))
	if err != nil {
		return err
	}
	defer srv.stop()

	token, familyID, err := signUp(ctx, srv)
	if err != nil {
		return err
	}
	content := pdfOf(o.size)
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	prefix, suffix, ctype := multipartFrame("scan.pdf")
	before, err := memory(srv.pid())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "server pid %d, %s, %d uploads × %d bytes × %d round(s), rate limits off\n",
		srv.pid(), srv.dialect, o.n, o.size, o.rounds)
	fmt.Fprintf(out, "before: VmRSS %s, VmHWM %s\n", mb(before.rss), mb(before.hwm))

	var latencies []time.Duration
	var ids []string
	var wall time.Duration
	for round := 0; round < o.rounds; round++ {
		start := make(chan struct{})
		type result struct {
			id      string
			latency time.Duration
			err     error
		}
		results := make(chan result, o.n)
		var wg sync.WaitGroup
		for range o.n {
			wg.Go(func() {
				<-start
				t0 := time.Now()
				id, err := upload(ctx, srv.base, token, familyID, ctype, prefix, content, suffix)
				results <- result{id, time.Since(t0), err}
			})
		}
		t0 := time.Now()
		close(start)
		wg.Wait()
		wall += time.Since(t0)
		close(results)
		for r := range results {
			if r.err != nil {
				return r.err
			}
			latencies = append(latencies, r.latency)
			ids = append(ids, r.id)
		}
	}
	uploadsDone := time.Now()
	if err := waitReady(ctx, srv.base, token, familyID, ids, want); err != nil {
		return err
	}
	processed := time.Since(uploadsDone)
	after, err := memory(srv.pid())
	if err != nil {
		return err
	}

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	total := float64(len(ids)) * float64(o.size)
	fmt.Fprintf(out, "uploads: %d in %s (upload phase) → %.1f MB/s, %.1f uploads/s\n",
		len(ids), wall.Round(time.Millisecond), total/(1<<20)/wall.Seconds(), float64(len(ids))/wall.Seconds())
	fmt.Fprintf(out, "latency per upload: p50 %s, p90 %s, max %s\n", pct(latencies, 50), pct(latencies, 90), latencies[len(latencies)-1].Round(time.Millisecond))
	fmt.Fprintf(out, "all READY (sha256 checked) %s after the last upload answered\n", processed.Round(time.Millisecond))
	fmt.Fprintf(out, "after: VmRSS %s, VmHWM %s\n", mb(after.rss), mb(after.hwm))
	fmt.Fprintf(out, "peak RSS growth: %s (VmHWM after − VmRSS before); VmHWM grew %s\n", mb(after.hwm-before.rss), mb(after.hwm-before.hwm))
	return nil
}

// server is the carecircle process under test.
type server struct {
	cmd     *exec.Cmd
	base    string
	dataDir string
	dialect string
	done    chan error
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// stop asks the server to shut down gracefully and waits for it.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func startServer(ctx context.Context, o options, dataDir string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(o.bin, "serve")
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"DATA_DIR=" + dataDir, "PORT=" + strconv.Itoa(port), "PUBLIC_URL=" + base,
		"RATE_LIMIT_ENABLED=false", "LOG_LEVEL=warn",
	}
	dialect := "sqlite"
	if o.postgres != "" {
		cmd.Env = append(cmd.Env, "DATABASE_URL="+o.postgres)
		dialect = "postgres"
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, base: base, dataDir: dataDir, dialect: dialect, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
		if res, err := http.Get(base + "/health/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
	}
}

// call sends a JSON request and decodes a JSON answer into v (when not nil).
func call(ctx context.Context, method, url, token string, body, v any, want int) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, url, res.StatusCode, b)
	}
	if v != nil {
		return json.Unmarshal(b, v)
	}
	return nil
}

var codeRE = regexp.MustCompile(`\b(\d{6})\b`)

// signUp registers an account (its code read from the outbox), verifies it
// and creates a family.
func signUp(ctx context.Context, s *server) (token, familyID string, err error) {
	api := s.base + "/api/v1"
	const email = "bench@example.com"
	if err := call(ctx, "POST", api+"/auth/register", "", map[string]any{"fullName": "Bench Mark", "email": email, "password": "Correct-horse-42"}, nil, 201); err != nil {
		return "", "", err
	}
	msgs, err := mail.ReadOutbox(filepath.Join(s.dataDir, "outbox"))
	if err != nil {
		return "", "", err
	}
	var code string
	for _, m := range msgs {
		if strings.EqualFold(m.To, email) {
			if c := codeRE.FindStringSubmatch(m.Text); c != nil {
				code = c[1]
			}
		}
	}
	if code == "" {
		return "", "", errors.New("no verification code in the outbox")
	}
	var v struct {
		AccessToken string `json:"accessToken"`
	}
	if err := call(ctx, "POST", api+"/auth/verify-email", "", map[string]any{"email": email, "otp": code}, &v, 200); err != nil {
		return "", "", err
	}
	var fam struct {
		ID string `json:"id"`
	}
	if err := call(ctx, "POST", api+"/families", v.AccessToken, map[string]any{"name": "Bench family"}, &fam, 201); err != nil {
		return "", "", err
	}
	return v.AccessToken, fam.ID, nil
}

// multipartFrame is the multipart body around the file's bytes: the same
// frame serves every upload, so the client holds the content only once.
func multipartFrame(filename string) (prefix, suffix []byte, contentType string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	_ = w.WriteField("type", "MEDICAL_RECORD")
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	hdr.Set("Content-Type", "application/pdf")
	_, _ = w.CreatePart(hdr)
	prefix = append([]byte(nil), b.Bytes()...)
	b.Reset()
	_ = w.Close()
	return prefix, b.Bytes(), w.FormDataContentType()
}

// upload sends one document and returns its id.
func upload(ctx context.Context, base, token, familyID, ctype string, prefix, content, suffix []byte) (string, error) {
	body := io.MultiReader(bytes.NewReader(prefix), bytes.NewReader(content), bytes.NewReader(suffix))
	req, err := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/families/"+familyID+"/documents", body)
	if err != nil {
		return "", err
	}
	req.ContentLength = int64(len(prefix) + len(content) + len(suffix))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 201 {
		return "", fmt.Errorf("upload: %d %s", res.StatusCode, b)
	}
	var d struct {
		ID string `json:"id"`
	}
	return d.ID, json.Unmarshal(b, &d)
}

// waitReady polls the family's documents until every upload is READY with
// the expected SHA-256.
func waitReady(ctx context.Context, base, token, familyID string, ids []string, sha string) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		var docs []struct {
			ID     string  `json:"id"`
			Status string  `json:"status"`
			SHA256 *string `json:"sha256"`
		}
		if err := call(ctx, "GET", base+"/api/v1/families/"+familyID+"/documents", token, nil, &docs, 200); err != nil {
			return err
		}
		ready := map[string]bool{}
		for _, d := range docs {
			switch {
			case d.Status == "FAILED":
				return fmt.Errorf("document %s FAILED", d.ID)
			case d.Status == "READY" && (d.SHA256 == nil || *d.SHA256 != sha):
				return fmt.Errorf("document %s READY with sha256 %v, want %s", d.ID, d.SHA256, sha)
			case d.Status == "READY":
				ready[d.ID] = true
			}
		}
		all := true
		for _, id := range ids {
			all = all && ready[id]
		}
		if all {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for READY: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// pdfOf is a one-page PDF of exactly size bytes.
func pdfOf(size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page >> endobj\n")
	for i := 0; b.Len() < size-64; i++ {
		fmt.Fprintf(&b, "%% scanned page data %d\n", i)
	}
	for b.Len() < size-6 {
		b.WriteByte(' ')
	}
	b.WriteString("%%EOF\n")
	return b.Bytes()[:size]
}

// mem is a process's resident memory in bytes.
type mem struct{ rss, hwm int64 }

// memory reads VmRSS and VmHWM from /proc/<pid>/status.
func memory(pid int) (mem, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return mem{}, err
	}
	var m mem
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rss = kb << 10
		case "VmHWM:":
			m.hwm = kb << 10
		}
	}
	if m.rss == 0 || m.hwm == 0 {
		return mem{}, fmt.Errorf("no VmRSS/VmHWM in /proc/%d/status", pid)
	}
	return m, nil
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/(1<<20)) }

func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	if i > 0 {
		i--
	}
	return sorted[i].Round(time.Millisecond)
}
