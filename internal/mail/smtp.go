package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/textproto"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/carecircle/carecircle/internal/clock"
)

// SMTPConfig says how to reach an SMTP submission server.
type SMTPConfig struct {
	Host     string
	Port     int // 0 means 465 when Secure, 587 otherwise
	User     string
	Password string
	// Secure connects with implicit TLS (SMTPS, usually port 465). Without
	// it the connection is upgraded with STARTTLS whenever the server offers
	// it; credentials are never sent over an unencrypted connection.
	Secure  bool
	From    string        // the sender, e.g. "CareCircle <no-reply@example.com>"
	Timeout time.Duration // per connection; 0 means 15 s
	// TLSConfig overrides the TLS settings, e.g. to trust a private CA;
	// nil verifies the server's certificate against the system roots.
	TLSConfig *tls.Config
	Clock     clock.Clock // dates the messages; nil means the wall clock
}

// SMTP is a Sender that submits each message to an SMTP server.
type SMTP struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

// NewSMTP returns an SMTP sender for cfg, checking that it is complete.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("mail: smtp: no host")
	}
	if _, err := netmail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail: smtp: from %q: %w", cfg.From, err)
	}
	if cfg.Port == 0 {
		cfg.Port = gomail.DefaultPortTLS
		if cfg.Secure {
			cfg.Port = gomail.DefaultPortSSL
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = gomail.DefaultTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	if tlsConfig.ServerName == "" {
		tlsConfig.ServerName = cfg.Host
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(tlsConfig),
	}
	if cfg.Secure {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if cfg.User != "" {
		// Discovery picks the strongest mechanism the server offers and
		// refuses PLAIN and LOGIN on a connection that is not encrypted.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	return &SMTP{cfg: cfg, opts: opts}, nil
}

// Send delivers m over one new connection. A failure wraps ErrTemporary or
// ErrPermanent.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	msg, err := Build(s.cfg.From, m, s.cfg.Clock.Now())
	if err != nil {
		return fmt.Errorf("mail: smtp: %w: %w", ErrPermanent, err)
	}
	// A client per message: go-mail's Client keeps one connection as state.
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return fmt.Errorf("mail: smtp: %w: %w", ErrPermanent, err)
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: smtp %s:%d: %w: %w", s.cfg.Host, s.cfg.Port, classifySMTP(err), err)
	}
	return nil
}

// classifySMTP tells a failure that may pass on a later try from one that
// will not: the server's reply code when there is one; otherwise a
// certificate that does not verify or no safe way to log in is permanent,
// and anything else (network trouble, timeouts) temporary.
func classifySMTP(err error) error {
	var sendErr *gomail.SendError
	if errors.As(err, &sendErr) {
		if sendErr.IsTemp() {
			return ErrTemporary
		}
		// go-mail reports a reply code of 0 when the failure was not a reply.
		if code := sendErr.ErrorCode(); code >= 500 {
			return ErrPermanent
		}
	}
	var reply *textproto.Error
	if errors.As(err, &reply) {
		if reply.Code >= 500 {
			return ErrPermanent
		}
		return ErrTemporary
	}
	var certErr *tls.CertificateVerificationError
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) {
		return ErrPermanent
	}
	return ErrTemporary
}
