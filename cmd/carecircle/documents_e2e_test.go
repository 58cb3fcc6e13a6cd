package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/store/storetest"
)

// e2ePDF is a two-page PDF padded to about size bytes.
func e2ePDF(size int) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" +
		"2 0 obj << /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >> endobj\n" +
		"3 0 obj << /Type /Page >> endobj 4 0 obj << /Type /Page >> endobj\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "%% insurance scan line %d\n", i)
	}
	b.WriteString("%%EOF\n")
	return b.Bytes()
}

// uploadFile posts a multipart upload with the file sent under filename,
// exactly as given, and returns the status and the decoded body.
func (c *e2eClient) uploadFile(token, familyID, filename, contentType string, content []byte, fields map[string]string) (int, map[string]any) {
	c.t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			c.t.Fatal(err)
		}
	}
	hdr := textproto.MIMEHeader{}
	hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	hdr.Set("Content-Type", contentType)
	pw, err := w.CreatePart(hdr)
	if err != nil {
		c.t.Fatal(err)
	}
	pw.Write(content)
	w.Close()
	req, _ := http.NewRequest("POST", c.base+"/api/v1/families/"+familyID+"/documents", &b)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		c.t.Fatalf("upload answered %d %s", res.StatusCode, body)
	}
	return res.StatusCode, m
}

// get fetches a URL without a session.
func (c *e2eClient) get(link string) (*http.Response, []byte) {
	c.t.Helper()
	res, err := http.Get(link)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

// storedFiles lists the regular files under dir.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return out
}

// TestDocumentUploadEndToEnd is the seed scenario "document upload →
// processed successfully" against the real binary on each database: a
// caregiver's multipart upload answers 201 PROCESSING, the server's own job
// queue makes it READY with its SHA-256 and size, the signed link serves the
// same bytes, and an expired or forged link is refused. Refused uploads
// leave nothing in DATA_DIR. "split" runs an API node, which only enqueues
// the job, beside a worker that processes it (sharing DATA_DIR).
func TestDocumentUploadEndToEnd(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres", "split"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			dataDir := t.TempDir()
			port := freePort(t)
			publicURL := "http://127.0.0.1:" + strconv.Itoa(port)
			env := map[string]string{"DATA_DIR": dataDir, "RATE_LIMIT_ENABLED": "false", "PORT": strconv.Itoa(port), "PUBLIC_URL": publicURL}
			if backend != "sqlite" {
				env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
			}
			if backend == "split" {
				startCommand(t, []string{"serve", "--role=api"}, env)
				worker := map[string]string{"HEALTH_PORT": strconv.Itoa(freePort(t))}
				for k, v := range env {
					if k != "PORT" {
						worker[k] = v
					}
				}
				startCommand(t, []string{"worker"}, worker)
			} else {
				// PORT given here overrides the one startServer picks.
				startServer(t, env)
			}
			c := &e2eClient{t: t, base: publicURL, outbox: filepath.Join(dataDir, "outbox")}
			docsDir := filepath.Join(dataDir, "documents")

			annToken, _ := c.signUp("Ann Lee", "ann@example.com")
			familyID := c.call("POST", "/families", annToken, map[string]any{"name": "The Lees"}, 201)["id"].(string)
			c.call("POST", "/families/"+familyID+"/invite", annToken, map[string]any{"email": "bo@example.com", "role": "CAREGIVER"}, 201)
			link := inviteRE.FindStringSubmatch(c.lastMail("bo@example.com"))
			if link == nil {
				t.Fatal("no accept-invite link in the invitation mail")
			}
			boToken, _ := c.signUp("Bo Lee", "bo@example.com")
			c.call("POST", "/families/invitations/"+link[1]+"/accept", boToken, nil, 200)

			// Refused uploads first: each leaves nothing behind.
			png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
			for _, bad := range []struct {
				filename, contentType string
				content               []byte
				status                int
			}{
				{"scan.pdf", "application/pdf", png, 415},
				{"../../../escape.pdf", "application/pdf", e2ePDF(1000), 400},
				{"setup.exe", "application/x-msdownload", []byte("MZ\x90\x00"), 415},
				{"page.html", "text/html", []byte("<html><body>x</body></html>"), 415},
				{"empty.pdf", "application/pdf", nil, 400},
				{"big.pdf", "application/pdf", e2ePDF(11 << 20), 413},
			} {
				status, m := c.uploadFile(boToken, familyID, bad.filename, bad.contentType, bad.content, nil)
				if status != bad.status || m["statusCode"] != float64(bad.status) || m["requestId"] == nil {
					t.Fatalf("%s: %d %v", bad.filename, status, m)
				}
				if left := storedFiles(t, docsDir); len(left) != 0 {
					t.Fatalf("%s left %v", bad.filename, left)
				}
				if _, err := os.Stat(filepath.Join(dataDir, "escape.pdf")); err == nil {
					t.Fatal("a file escaped the storage root")
				}
			}
			if list := c.callList("GET", "/families/"+familyID+"/documents", annToken); len(list) != 0 {
				t.Fatalf("documents after refused uploads: %v", list)
			}

			content := e2ePDF(2 << 20)
			status, doc := c.uploadFile(boToken, familyID, "insurance card.pdf", "application/pdf", content,
				map[string]string{"type": "INSURANCE_CARD", "expiresAt": "2030-01-31"})
			if status != 201 || doc["status"] != "PROCESSING" || doc["sizeBytes"] != float64(len(content)) || doc["type"] != "INSURANCE_CARD" {
				t.Fatalf("upload: %d %v", status, doc)
			}
			docID := doc["id"].(string)
			docPath := "/families/" + familyID + "/documents/" + docID

			// The server's job queue processes the upload; poll, bounded.
			deadline := time.Now().Add(30 * time.Second)
			tick := time.NewTicker(25 * time.Millisecond)
			defer tick.Stop()
			for doc["status"] == "PROCESSING" && time.Now().Before(deadline) {
				<-tick.C
				doc = c.call("GET", docPath, annToken, nil, 200)
			}
			sum := sha256.Sum256(content)
			if doc["status"] != "READY" || doc["sha256"] != hex.EncodeToString(sum[:]) || doc["sizeBytes"] != float64(len(content)) || doc["pageCount"] != float64(2) {
				t.Fatalf("after processing: %v", doc)
			}

			links := c.call("GET", docPath+"/url", boToken, nil, 200)
			download := links["downloadUrl"].(string)
			if !strings.HasPrefix(download, publicURL+"/api/v1/families/"+familyID+"/documents/"+docID+"/download?") {
				t.Fatalf("download link %q", download)
			}
			res, body := c.get(download)
			if res.StatusCode != 200 || !bytes.Equal(body, content) {
				t.Fatalf("download: %d, %d bytes of %d", res.StatusCode, len(body), len(content))
			}
			if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="insurance card.pdf"` || res.Header.Get("Content-Type") != "application/pdf" {
				t.Fatalf("download headers: %v", res.Header)
			}

			// A forged link is refused.
			u, _ := url.Parse(download)
			q := u.Query()
			sig := q.Get("signature")
			q.Set("signature", strings.Repeat("x", len(sig)))
			forged := *u
			forged.RawQuery = q.Encode()
			if res, body := c.get(forged.String()); res.StatusCode != 403 || bytes.Contains(body, content[:32]) {
				t.Fatalf("forged link: %d %.200s", res.StatusCode, body)
			}
			// An expired link is refused even when properly signed: sign one
			// with the server's key (derived from the generated JWT secret
			// in DATA_DIR) that expired a minute ago.
			secret, err := os.ReadFile(filepath.Join(dataDir, "jwt_secret"))
			if err != nil {
				t.Fatal(err)
			}
			sign := func(expires int64) string {
				k := hmac.New(sha256.New, bytes.TrimSpace(secret))
				k.Write([]byte("carecircle document links v1"))
				mac := hmac.New(sha256.New, k.Sum(nil))
				mac.Write([]byte(strings.Join([]string{familyID, docID, "file", "attachment", strconv.FormatInt(expires, 10)}, "\n")))
				return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
			}
			exp, _ := strconv.ParseInt(u.Query().Get("expires"), 10, 64)
			if sign(exp) != sig {
				t.Fatal("the link's signature is not the one this test computes; the expiry check below would prove nothing")
			}
			past := time.Now().Add(-time.Minute).Unix()
			q = u.Query()
			q.Set("expires", strconv.FormatInt(past, 10))
			q.Set("signature", sign(past))
			expired := *u
			expired.RawQuery = q.Encode()
			res, body = c.get(expired.String())
			if res.StatusCode != 403 || !strings.Contains(string(body), "expired") {
				t.Fatalf("expired link: %d %s", res.StatusCode, body)
			}

			// Deleting (an admin's right) removes the file from DATA_DIR.
			if files := storedFiles(t, docsDir); len(files) != 1 {
				t.Fatalf("stored files: %v", files)
			}
			c.call("DELETE", docPath, boToken, nil, 403)
			c.call("DELETE", docPath, annToken, nil, 200)
			if files := storedFiles(t, docsDir); len(files) != 0 {
				t.Fatalf("after delete: %v", files)
			}
			if res, _ := c.get(download); res.StatusCode != 404 {
				t.Fatalf("link of a deleted document: %d", res.StatusCode)
			}
		})
	}
}

// callList is call for a JSON array answer.
func (c *e2eClient) callList(method, path, token string) []any {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var l []any
	if err := json.NewDecoder(res.Body).Decode(&l); err != nil || res.StatusCode != 200 {
		c.t.Fatalf("%s %s = %d: %v", method, path, res.StatusCode, err)
	}
	return l
}
