package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/carecircle/carecircle/internal/clock"
)

// delivered is one message as the test SMTP server received it.
type delivered struct {
	From, User string
	To         []string
	TLS        bool
	Data       []byte
}

// smtpServer is a real SMTP server on 127.0.0.1 for one test.
type smtpServer struct {
	Addr     string
	Port     int
	Roots    *x509.CertPool // trusts the server's certificate
	received chan delivered

	mu         sync.Mutex
	authTries  int
	rejectRcpt *smtp.SMTPError // set to refuse every recipient
}

type smtpServerOptions struct {
	implicitTLS bool // TLS from the first byte (SMTPS); otherwise STARTTLS
	noTLS       bool // offer no TLS at all, but AUTH anyway
	user, pass  string
}

// startSMTPServer starts a go-smtp server that offers AUTH PLAIN over TLS
// and hands every message it accepts to received.
func startSMTPServer(t *testing.T, o smtpServerOptions) *smtpServer {
	t.Helper()
	cert, roots := selfSignedCert(t)
	s := &smtpServer{Roots: roots, received: make(chan delivered, 16)}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &smtpSession{server: s, opts: o, msg: delivered{TLS: isTLS}, conn: c}, nil
	}))
	srv.Domain = "mx.test"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = smtpTestLogger{t}
	// A server without TLS lets clients log in anyway, so the test can see
	// whether ours would.
	srv.AllowInsecureAuth = o.noTLS
	if !o.noTLS {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	}
	var l net.Listener
	var err error
	if o.implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", srv.TLSConfig)
	} else {
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	s.Addr = l.Addr().String()
	s.Port = l.Addr().(*net.TCPAddr).Port
	return s
}

// next waits for the next accepted message.
func (s *smtpServer) next(t *testing.T) delivered {
	t.Helper()
	select {
	case d := <-s.received:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("the SMTP server received nothing")
		return delivered{}
	}
}

// none asserts that nothing was accepted.
func (s *smtpServer) none(t *testing.T) {
	t.Helper()
	select {
	case d := <-s.received:
		t.Fatalf("the SMTP server accepted a message: %s", d.Data)
	default:
	}
}

type smtpTestLogger struct{ t *testing.T }

func (l smtpTestLogger) Printf(format string, v ...any) { l.t.Logf("smtp server: "+format, v...) }
func (l smtpTestLogger) Println(v ...any)               { l.t.Log(append([]any{"smtp server:"}, v...)...) }

type smtpSession struct {
	server *smtpServer
	opts   smtpServerOptions
	conn   *smtp.Conn
	msg    delivered
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.server.mu.Lock()
		s.server.authTries++
		s.server.mu.Unlock()
		if username != s.opts.user || password != s.opts.pass {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "bad credentials"}
		}
		s.msg.User = username
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.opts.user != "" && s.msg.User == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.From = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.server.mu.Lock()
	reject := s.server.rejectRcpt
	s.server.mu.Unlock()
	if reject != nil {
		return reject
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	d := s.msg
	d.Data = b
	_, d.TLS = s.conn.TLSConnectionState()
	s.server.received <- d
	return nil
}

func (s *smtpSession) Reset()        { s.msg = delivered{User: s.msg.User} }
func (s *smtpSession) Logout() error { return nil }

// selfSignedCert makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSignedCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, roots
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header netmail.Header
	Text   string
	HTML   string
}

// parseMail reads an RFC 5322 message with text and HTML alternatives.
func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("not RFC 5322: %v\n%s", err, data)
	}
	p := parsedMail{Header: msg.Header}
	var walk func(contentType, encoding string, body io.Reader)
	walk = func(contentType, encoding string, body io.Reader) {
		mt, params, err := mime.ParseMediaType(contentType)
		if err != nil {
			t.Fatalf("content type %q: %v", contentType, err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			mr := multipart.NewReader(body, params["boundary"])
			for {
				part, err := mr.NextPart() // decodes quoted-printable
				if errors.Is(err, io.EOF) {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				walk(part.Header.Get("Content-Type"), part.Header.Get("Content-Transfer-Encoding"), part)
			}
		}
		if strings.EqualFold(encoding, "base64") {
			body = base64.NewDecoder(base64.StdEncoding, body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		// SMTP carries lines ending in CRLF.
		text := strings.ReplaceAll(string(b), "\r\n", "\n")
		switch mt {
		case "text/plain":
			p.Text = text
		case "text/html":
			p.HTML = text
		}
	}
	walk(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return p
}

func TestSMTPDeliversTemplatedMessageOverSTARTTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTPServer(t, smtpServerOptions{user: "mailer", pass: "s3cret pass"})
	now := time.Date(2026, 3, 9, 13, 0, 0, 0, time.UTC)
	s, err := NewSMTP(SMTPConfig{
		Host: "127.0.0.1", Port: srv.Port, User: "mailer", Password: "s3cret pass",
		From: "CareCircle <no-reply@carecircle.test>", Timeout: 10 * time.Second,
		TLSConfig: &tls.Config{RootCAs: srv.Roots}, Clock: clock.NewFake(now),
	})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Render("emergency-alert", "en", EmergencyAlertData{
		Name: "Bo", RaisedBy: "Ann <Lee>", CareRecipientName: "Grandma Rosé", Type: "FALL",
		Title: "Fell in the kitchen", Description: "Conscious.", RaisedAt: now, AlertURL: "https://care.example/emergency/al1",
	})
	if err != nil {
		t.Fatal(err)
	}
	m.To = "Bo Lee <bo@example.com>"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}

	d := srv.next(t)
	if !d.TLS || d.User != "mailer" || d.From != "no-reply@carecircle.test" || len(d.To) != 1 || d.To[0] != "bo@example.com" {
		t.Fatalf("envelope = tls %v, user %q, from %q, to %v", d.TLS, d.User, d.From, d.To)
	}
	got := parseMail(t, d.Data)
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(got.Header.Get("Subject"))
	if err != nil || subject != m.Subject || subject != "EMERGENCY: Fell in the kitchen (Grandma Rosé)" {
		t.Errorf("Subject = %q (%v), want %q", subject, err, m.Subject)
	}
	if from, err := got.Header.AddressList("From"); err != nil || from[0].Address != "no-reply@carecircle.test" || from[0].Name != "CareCircle" {
		t.Errorf("From = %v, %v", from, err)
	}
	if to, err := got.Header.AddressList("To"); err != nil || to[0].Address != "bo@example.com" || to[0].Name != "Bo Lee" {
		t.Errorf("To = %v, %v", to, err)
	}
	if date, err := got.Header.Date(); err != nil || !date.Equal(now) {
		t.Errorf("Date = %v, %v; want the injected clock's %v", date, err, now)
	}
	if got.Header.Get("Message-Id") == "" {
		t.Error("no Message-ID")
	}
	if got.Text != m.Text {
		t.Errorf("text part differs:\n%s\nwant\n%s", got.Text, m.Text)
	}
	if got.HTML != m.HTML || !strings.Contains(got.HTML, "Ann &lt;Lee&gt;") {
		t.Errorf("html part differs:\n%s\nwant\n%s", got.HTML, m.HTML)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	t.Parallel()
	srv := startSMTPServer(t, smtpServerOptions{implicitTLS: true, user: "u", pass: "p"})
	s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: srv.Port, User: "u", Password: "p", Secure: true,
		From: "no-reply@carecircle.test", Timeout: 10 * time.Second, TLSConfig: &tls.Config{RootCAs: srv.Roots}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), Message{To: "ann@example.com", Subject: "Hi", Text: "plain only"}); err != nil {
		t.Fatal(err)
	}
	d := srv.next(t)
	got := parseMail(t, d.Data)
	if !d.TLS || d.User != "u" || strings.TrimSpace(got.Text) != "plain only" || got.HTML != "" {
		t.Fatalf("received tls %v user %q text %q html %q", d.TLS, d.User, got.Text, got.HTML)
	}
}

func TestSMTPFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	msg := Message{To: "ann@example.com", Subject: "Hi", Text: "hello"}
	newSender := func(t *testing.T, port int, roots *x509.CertPool, user, pass string) *SMTP {
		s, err := NewSMTP(SMTPConfig{Host: "127.0.0.1", Port: port, User: user, Password: pass,
			From: "no-reply@carecircle.test", Timeout: 10 * time.Second, TLSConfig: &tls.Config{RootCAs: roots}})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	t.Run("wrong password is permanent", func(t *testing.T) {
		t.Parallel()
		srv := startSMTPServer(t, smtpServerOptions{user: "u", pass: "right"})
		err := newSender(t, srv.Port, srv.Roots, "u", "wrong").Send(ctx, msg)
		if !errors.Is(err, ErrPermanent) || Temporary(err) {
			t.Fatalf("err = %v", err)
		}
		srv.none(t)
	})
	t.Run("no credentials over plain text", func(t *testing.T) {
		t.Parallel()
		srv := startSMTPServer(t, smtpServerOptions{noTLS: true, user: "u", pass: "p"})
		err := newSender(t, srv.Port, srv.Roots, "u", "p").Send(ctx, msg)
		if !errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v", err)
		}
		srv.mu.Lock()
		tries := srv.authTries
		srv.mu.Unlock()
		if tries != 0 {
			t.Fatalf("credentials sent over an unencrypted connection %d times", tries)
		}
		srv.none(t)
	})
	t.Run("untrusted certificate is permanent", func(t *testing.T) {
		t.Parallel()
		srv := startSMTPServer(t, smtpServerOptions{user: "u", pass: "p"})
		err := newSender(t, srv.Port, x509.NewCertPool(), "u", "p").Send(ctx, msg)
		if !errors.Is(err, ErrPermanent) {
			t.Fatalf("err = %v", err)
		}
		srv.none(t)
	})
	for _, c := range []struct {
		name      string
		code      int
		temporary bool
	}{{"mailbox busy is temporary", 450, true}, {"unknown mailbox is permanent", 550, false}} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := startSMTPServer(t, smtpServerOptions{user: "u", pass: "p"})
			srv.mu.Lock()
			srv.rejectRcpt = &smtp.SMTPError{Code: c.code, EnhancedCode: smtp.EnhancedCode{c.code / 100, 1, 1}, Message: "no"}
			srv.mu.Unlock()
			err := newSender(t, srv.Port, srv.Roots, "u", "p").Send(ctx, msg)
			if err == nil || Temporary(err) != c.temporary || errors.Is(err, ErrPermanent) == c.temporary {
				t.Fatalf("err = %v, temporary %v", err, Temporary(err))
			}
		})
	}
	t.Run("server down is temporary", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		err = newSender(t, port, nil, "", "").Send(ctx, msg)
		if !Temporary(err) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestNewSMTPValidates(t *testing.T) {
	t.Parallel()
	if _, err := NewSMTP(SMTPConfig{From: "a@example.com"}); err == nil {
		t.Error("no host accepted")
	}
	if _, err := NewSMTP(SMTPConfig{Host: "smtp.example.com", From: "not an address"}); err == nil {
		t.Error("bad from accepted")
	}
}
