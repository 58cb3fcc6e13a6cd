package app

import (
	"context"
	"fmt"
	"net/mail"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// settingsKeyStore keeps the VAPID keys in the database's settings table,
// so every node of a deployment signs with the same pair.
type settingsKeyStore struct{ st *store.Store }

func (k settingsKeyStore) Get(ctx context.Context, key string) (string, bool, error) {
	return k.st.Setting(ctx, key)
}

func (k settingsKeyStore) PutIfAbsent(ctx context.Context, key, value string) (string, error) {
	return k.st.PutSettingIfAbsent(ctx, key, value)
}

// newPushSender is a process's web push sender: to public push services
// and the hosts of PUSH_ALLOWED_HOSTS, over TLS verified against the system
// roots plus SSL_CERT_FILE.
func newPushSender(cfg config.Config, vapid webpush.VAPID, clk clock.Clock) (*webpush.Sender, error) {
	endpoints, err := webpush.NewEndpoints(cfg.PushAllowedHosts)
	if err != nil {
		return nil, fmt.Errorf("PUSH_ALLOWED_HOSTS: %w", err)
	}
	roots, err := webpush.TrustedRoots(cfg.SSLCertFile)
	if err != nil {
		return nil, err
	}
	push, err := webpush.NewGuardedSender(vapid, endpoints, roots, clk)
	if err != nil {
		return nil, fmt.Errorf("web push: %w", err)
	}
	return push, nil
}

// loadVAPID returns the configured VAPID keys, or the pair generated on the
// first start and kept since.
func loadVAPID(ctx context.Context, cfg config.Config, st *store.Store) (webpush.VAPID, error) {
	subject := cfg.VAPIDSubject
	if subject == "" {
		subject = "mailto:no-reply@carecircle.local"
		if a, err := mail.ParseAddress(cfg.MailFrom); err == nil {
			subject = "mailto:" + a.Address
		}
	}
	env := func(name string) string {
		switch name {
		case webpush.EnvPublicKey:
			return cfg.VAPIDPublicKey
		case webpush.EnvPrivateKey:
			return cfg.VAPIDPrivateKey
		}
		return ""
	}
	v, err := webpush.LoadOrCreateKeys(ctx, settingsKeyStore{st}, subject, webpush.FromEnv(env))
	if err != nil {
		return webpush.VAPID{}, fmt.Errorf("web push keys: %w", err)
	}
	return v, nil
}
