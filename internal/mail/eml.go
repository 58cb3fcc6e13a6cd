package mail

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Received is a message read back from an .eml file.
type Received struct {
	File    string
	To      string
	Subject string
	Text    string
}

// ReadEML parses an RFC 5322 message and returns its plain-text body,
// decoding multipart and transfer encodings.
func ReadEML(r io.Reader) (Received, error) {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return Received{}, fmt.Errorf("mail: parse: %w", err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		subject = msg.Header.Get("Subject")
	}
	to := msg.Header.Get("To")
	if a, err := netmail.ParseAddress(to); err == nil {
		to = a.Address
	}
	text, err := plainText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return Received{}, err
	}
	return Received{To: to, Subject: subject, Text: text}, nil
}

func plainText(contentType, encoding string, body io.Reader) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return "", fmt.Errorf("mail: no text/plain part")
			}
			if err != nil {
				return "", fmt.Errorf("mail: read part: %w", err)
			}
			text, err := plainText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			if err == nil {
				return text, nil
			}
		}
	}
	if mt != "text/plain" {
		return "", fmt.Errorf("mail: %s is not text/plain", mt)
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return "", fmt.Errorf("mail: read body: %w", err)
	}
	return string(b), nil
}

// ReadOutbox returns every message in an outbox directory, oldest first.
func ReadOutbox(dir string) ([]Received, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := make([]Received, 0, len(files))
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		m, err := ReadEML(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		m.File = name
		out = append(out, m)
	}
	return out, nil
}
