package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/config"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// buildMailChain assembles the email providers: Brevo first when it has a
// key, then SMTP; with neither, the outbox folder under DATA_DIR. Metered
// providers share a daily quota counted in the database, and every attempt
// is recorded there.
func buildMailChain(cfg config.Config, st *store.Store, clk clock.Clock, logger *slog.Logger) (*mail.Chain, error) {
	var providers []mail.Provider
	if cfg.BrevoAPIKey != "" {
		b, err := mail.NewBrevo(cfg.BrevoAPIKey, cfg.MailFrom, nil, "")
		if err != nil {
			return nil, fmt.Errorf("email: %w", err)
		}
		providers = append(providers, mail.Provider{Name: "brevo", Sender: b})
	}
	if cfg.SMTPHost != "" {
		from := cfg.SMTPFrom
		if from == "" {
			from = cfg.MailFrom
		}
		s, err := mail.NewSMTP(mail.SMTPConfig{Host: cfg.SMTPHost, Port: cfg.SMTPPort, User: cfg.SMTPUser,
			Password: cfg.SMTPPassword, Secure: cfg.SMTPSecure, From: from, Clock: clk})
		if err != nil {
			return nil, fmt.Errorf("email: %w", err)
		}
		providers = append(providers, mail.Provider{Name: "smtp", Sender: s})
	}
	if len(providers) == 0 {
		ob, err := mail.NewOutbox(filepath.Join(cfg.DataDir, "outbox"), cfg.MailFrom, logger, clk.Now)
		if err != nil {
			return nil, err
		}
		providers = append(providers, mail.Provider{Name: "outbox", Sender: ob, Unmetered: true})
	}
	quota := mail.NewQuota(mail.QuotaConfig{Limit: cfg.EmailDailyLimit, OnWarning: notify.QuotaWarner(&notify.Notifier{Store: st, Clock: clk}, logger)},
		notify.StoreCounter{Store: st}, clk)
	return &mail.Chain{Providers: providers, Quota: quota, Recorder: notify.StoreRecorder{Store: st}, Clock: clk, Logger: logger}, nil
}

// newDeliverer builds the channels of notifications, web push and email
// always and SMS when configured, and the Deliverer that sends on them.
func newDeliverer(cfg config.Config, st *store.Store, chain *mail.Chain, vapid webpush.VAPID, sms notify.SMSSender, clk clock.Clock, logger *slog.Logger) (*notify.Deliverer, error) {
	push, err := newPushSender(cfg, vapid, clk)
	if err != nil {
		return nil, err
	}
	channels := &notify.Channels{}
	channels.Register(&notify.PushChannel{Store: st, Sender: push, PublicURL: cfg.PublicURL})
	channels.Register(&notify.EmailChannel{Store: st, Chain: chain, Clock: clk, Logger: logger, PublicURL: cfg.PublicURL})
	if sms != nil {
		channels.Register(&notify.SMSChannel{Store: st, Sender: sms, PublicURL: cfg.PublicURL})
	}
	return &notify.Deliverer{Store: st, Channels: channels, Clock: clk, Logger: logger}, nil
}

// runDeferredMail sends deferred routine email once it is due, every minute,
// on the one node that holds the "deferred-mail" lease.
func runDeferredMail(ctx context.Context, st *store.Store, m *notify.Mailer, logger *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	holder := uuid.NewString()
	for {
		// One node sends them: whichever holds the lease this minute.
		if ok, _, err := st.AcquireLease(ctx, "deferred-mail", holder, 3*time.Minute); err == nil && ok {
			if n, err := m.SendDeferred(ctx); err != nil && ctx.Err() == nil {
				logger.Warn("deferred email", slog.Any("error", err))
			} else if n > 0 {
				logger.Info("deferred email sent", slog.Int("count", n))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
