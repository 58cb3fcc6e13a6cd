package main

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/store"
)

// pushService is a Web Push service on a local TLS socket: it takes every
// message (encrypted by the sender for its subscription, as a browser's
// push service gets it), answers 201 Created and notes when it arrived.
type pushService struct {
	srv *httptest.Server
	clk clock.Clock

	mu sync.Mutex
	at []time.Time
}

func newPushService(clk clock.Clock) *pushService {
	p := &pushService{clk: clk}
	p.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		p.mu.Lock()
		p.at = append(p.at, p.clk.Now())
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	return p
}

func (p *pushService) received() []time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Time(nil), p.at...)
}

func (p *pushService) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.at)
}

// subscribe gives every n-th user (by id) a browser subscribed at the push
// service, with keys of its own; it returns how many were subscribed.
func (p *pushService) subscribe(ctx context.Context, st *store.Store, every int) (int, error) {
	rows, err := st.DB().QueryContext(ctx, `SELECT id FROM users ORDER BY id`)
	if err != nil {
		return 0, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	n := 0
	for i := 0; i < len(ids); i += every {
		key, err := ecdh.P256().GenerateKey(rand.Reader)
		if err != nil {
			return n, err
		}
		auth := make([]byte, 16)
		_, _ = rand.Read(auth)
		if _, err := st.SavePushSubscription(ctx, store.PushSubscription{UserID: ids[i], Endpoint: p.srv.URL + "/push/" + ids[i],
			P256dh: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(auth)}); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// deliverer is the application's channel deliverer with web push as its
// one channel: a sender with fresh VAPID keys that trusts the local
// service's certificate and allows its address, as PUSH_ALLOWED_HOSTS and
// SSL_CERT_FILE would.
func (p *pushService) deliverer(st *store.Store, clk clock.Clock, logger *slog.Logger) (*notify.Deliverer, error) {
	keys, err := webpush.GenerateKeys()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(p.srv.URL)
	if err != nil {
		return nil, err
	}
	endpoints, err := webpush.NewEndpoints([]string{u.Host})
	if err != nil {
		return nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(p.srv.Certificate())
	sender, err := webpush.NewGuardedSender(webpush.VAPID{Keys: keys, Subject: "mailto:bench@carecircle.test"}, endpoints, roots, clk)
	if err != nil {
		return nil, fmt.Errorf("push sender: %w", err)
	}
	channels := &notify.Channels{}
	channels.Register(&notify.PushChannel{Store: st, Sender: sender, PublicURL: "https://carecircle.test"})
	return &notify.Deliverer{Store: st, Channels: channels, Clock: clk, Logger: logger}, nil
}
