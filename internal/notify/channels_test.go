package notify_test

import (
	"context"
	"sync"
	"testing"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// pager is a channel defined outside the package, as a new channel would
// be: it keeps what it was given and whether push reached the user first.
type pager struct {
	mu   sync.Mutex
	got  []string // notification titles
	push []bool   // whether push had reached the user
}

func (*pager) Name() string                               { return "pager" }
func (*pager) On(prefs care.NotificationPreferences) bool { return prefs.SMS }
func (p *pager) Send(_ context.Context, d *notify.Delivery) (bool, error) {
	pushed := d.Reached(notify.ChannelPush)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, d.Notification.Title)
	p.push = append(p.push, pushed)
	return true, nil
}

func (p *pager) titles() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

// TestARegisteredChannelIsUsedLikeTheOthers: a channel registered with the
// Deliverer gets what its switch turns on, nothing in quiet hours, every
// emergency, and can wait for another channel's outcome.
func TestARegisteredChannelIsUsedLikeTheOthers(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 100)
		ctx := context.Background()
		p := &pager{}
		r.d.Channels.Register(p)

		on := care.DefaultNotificationPreferences()
		on.SMS = true
		keen := r.user(t, "keen@carecircle.test", &on, "")
		off := care.DefaultNotificationPreferences()
		off.SMS = false
		plain := r.user(t, "plain@carecircle.test", &off, "")
		quiet := on
		// 12:00 UTC is 14:00 in Berlin, inside 13:00–15:00.
		quiet.QuietHours = &care.QuietHours{Enabled: true, Start: "13:00", End: "15:00"}
		sleepy := r.user(t, "sleepy@carecircle.test", &quiet, "")

		for _, u := range []*care.User{keen, plain, sleepy} {
			if err := r.d.Deliver(ctx, r.notify(t, u, care.NotifyAppointmentReminder, nil)); err != nil {
				t.Fatal(err)
			}
		}
		if got := p.titles(); len(got) != 1 {
			t.Fatalf("routine: the pager got %v, want keen's only", got)
		}
		if err := r.d.Deliver(ctx, r.notify(t, sleepy, care.NotifyEmergencyAlert, map[string]any{"alertId": "a1"})); err != nil {
			t.Fatal(err)
		}
		if got := p.titles(); len(got) != 2 {
			t.Fatalf("emergency: the pager got %v", got)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if !p.push[0] || !p.push[1] {
			t.Fatalf("push outcomes seen by the pager: %v, want push reached first", p.push)
		}
	})
}
