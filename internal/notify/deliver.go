// Package notify creates CareCircle's notifications and carries them beyond
// the app. Every notification, from any feature or job, is created by
// Notifier.Send: it leaves out the users who turned that kind off, writes
// the in-app rows with their dedupe key and appends the event that
// announces them (shown live, and handed to the channels), in one
// transaction. The in-app row is the source of truth; the outbox hands the
// event to the Deliverer, which sends each notification on the registered
// channels — web push to each of a user's browsers, email through the
// provider chain within the daily quota, SMS to verified numbers — and
// records what every channel did with every target so a retry never sends
// twice what already went out.
//
// Routing: emergencies go to every channel at once, ignore quiet hours and
// take from the email reserve; everything else honours the user's channel
// switches and quiet hours (in the user's own zone). Routine email that
// does not fit the day's quota is downgraded to push and in-app when it is
// time-bound (a reminder), deferred to the next UTC day otherwise.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify/sms"
	"github.com/carecircle/carecircle/internal/notify/webpush"
	"github.com/carecircle/carecircle/internal/outbox"
	"github.com/carecircle/carecircle/internal/store"
)

// Channels.
const (
	ChannelPush  = "push"
	ChannelEmail = "email"
	ChannelSMS   = "sms"
)

// SMSSender sends a text message to an E.164 number.
type SMSSender interface {
	SendSMS(ctx context.Context, to, body string) error
}

// Pusher sends one web push message.
type Pusher interface {
	Send(ctx context.Context, sub webpush.Subscription, msg webpush.Message, p webpush.Priority) (webpush.Result, error)
}

// Deliverer delivers notifications on push, email and SMS.
type Deliverer struct {
	Store     *store.Store
	Push      Pusher      // nil: no web push
	Mail      *mail.Chain // nil: no email
	SMS       SMSSender   // nil: no SMS
	Clock     clock.Clock
	Logger    *slog.Logger
	PublicURL string
}

// ErrTemporary marks a delivery that failed in a way a later try may fix.
var ErrTemporary = errors.New("temporary delivery failure")

// ConsumerName is the channel deliverer's name in the outbox and, with
// RabbitMQ, of its queue.
const ConsumerName = "channels"

// Name implements outbox.Consumer.
func (d *Deliverer) Name() string { return ConsumerName }

// Handle implements outbox.Consumer: it delivers the notifications an event
// announces — notification.created, or a reminder event (medication.reminder,
// shift.reminder, …) that carries the ids of the notifications it wrote, as
// the event catalog says of its type (events.Notifies) — and ignores every
// other event.
func (d *Deliverer) Handle(ctx context.Context, e events.Event) error {
	if !events.Notifies(e.Type) {
		return nil
	}
	var data events.Notified
	if err := json.Unmarshal(e.Data, &data); err != nil {
		return fmt.Errorf("%w: %s data: %v", outbox.ErrPermanent, e.ID, err)
	}
	return d.DeliverAll(ctx, data.NotificationIDs)
}

// DeliverAll delivers each notification, all at once; it fails when any
// failed in a way worth retrying (the rest are recorded and not resent).
func (d *Deliverer) DeliverAll(ctx context.Context, ids []string) error {
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	sem := make(chan struct{}, 16)
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = d.Deliver(ctx, id)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// plan is what one notification should do on each channel.
type plan struct {
	n         *care.Notification
	user      *care.User
	emergency bool
	push      bool
	email     bool
	sms       bool
	reason    string // why the channels stay silent, when they do
}

// Deliver sends one notification on every channel its recipient should get
// it on, skipping what an earlier try already delivered.
func (d *Deliverer) Deliver(ctx context.Context, id string) error {
	n, err := d.Store.NotificationByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil // deleted with its user
	}
	if err != nil {
		return err
	}
	u, err := d.Store.UserByID(ctx, n.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	p := d.route(n, u)
	if p.reason != "" {
		return d.Store.RecordDelivery(ctx, n.ID, "all", "-", store.DeliverySuppressed, "", p.reason)
	}
	var wg sync.WaitGroup
	var pushErr, mailErr, smsErr error
	pushed := make(chan bool, 1)
	wg.Add(3)
	go func() {
		defer wg.Done()
		var ok bool
		ok, pushErr = d.push(ctx, p)
		pushed <- ok
	}()
	go func() {
		defer wg.Done()
		mailErr = d.email(ctx, p, pushed)
	}()
	go func() {
		defer wg.Done()
		smsErr = d.sms(ctx, p)
	}()
	wg.Wait()
	return errors.Join(pushErr, mailErr, smsErr)
}

// route decides the channels for n by u's channel switches and quiet hours
// (whether u wants n's kind at all was decided when it was created:
// Notifier.Address).
func (d *Deliverer) route(n *care.Notification, u *care.User) plan {
	prefs := care.ReadNotificationPreferences(u.Preferences)
	p := plan{n: n, user: u, emergency: n.Type == care.NotifyEmergencyAlert}
	hasPhone := u.Phone != nil && *u.Phone != "" && u.PhoneVerified
	if p.emergency {
		p.push, p.email, p.sms = true, true, hasPhone
		return p
	}
	if prefs.QuietHours != nil {
		if loc, err := time.LoadLocation(u.Timezone); err == nil && prefs.QuietHours.InQuietHours(d.Clock.Now().In(loc)) {
			p.reason = "quiet hours"
			return p
		}
	}
	p.push, p.email, p.sms = prefs.Push, prefs.Email, prefs.SMS && hasPhone
	return p
}

// PreferenceKind is the preference switch that governs a notification type
// ("" for types no switch turns off).
func PreferenceKind(t care.NotificationType) string {
	switch t {
	case care.NotifyMedicationReminder, care.NotifyMedicationMissed, care.NotifyRefillAlert:
		return "medicationReminders"
	case care.NotifyAppointmentReminder:
		return "appointmentReminders"
	case care.NotifyShiftReminder, care.NotifyShiftAssigned, care.NotifyShiftHandoff, care.NotifyShiftCancelled:
		return "shiftReminders"
	case care.NotifyMedicationLogged, care.NotifyTimelineUpdate, care.NotifyFamilyUpdate, care.NotifyDocumentUploaded:
		return "familyActivity"
	}
	return ""
}

// push sends to each of the user's subscriptions and reports whether at
// least one browser has it.
func (d *Deliverer) push(ctx context.Context, p plan) (bool, error) {
	if !p.push || d.Push == nil {
		return false, nil
	}
	subs, err := d.Store.PushSubscriptions(ctx, p.user.ID)
	if err != nil {
		return false, err
	}
	msg := PushMessage(p.n, d.PublicURL)
	prio := webpush.Normal
	if p.emergency {
		prio = webpush.Emergency
	}
	var errs []error
	reached := false
	for _, sub := range subs {
		done, err := d.Store.DeliveryDone(ctx, p.n.ID, ChannelPush, sub.Endpoint)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if done {
			reached = true
			continue
		}
		res, err := d.Push.Send(ctx, webpush.Subscription{Endpoint: sub.Endpoint, P256dh: sub.P256dh, Auth: sub.Auth}, msg, prio)
		status, detail := store.DeliverySent, ""
		switch {
		case errors.Is(err, webpush.ErrPrivateEndpoint):
			// Not a push service: never send there, and forget it.
			status, detail = store.DeliveryRejected, err.Error()
			if err := d.Store.DeletePushSubscriptionByEndpoint(ctx, sub.Endpoint); err != nil {
				errs = append(errs, err)
			}
		case err != nil:
			status, detail = store.DeliveryFailed, err.Error()
		case res.Outcome == webpush.Delivered:
			reached = true
		case res.Outcome == webpush.Gone:
			status, detail = store.DeliveryGone, res.Detail
			if err := d.Store.DeletePushSubscriptionByEndpoint(ctx, sub.Endpoint); err != nil {
				errs = append(errs, err)
			}
		case res.Outcome == webpush.Retry:
			status, detail = store.DeliveryFailed, fmt.Sprintf("push service answered %d %s", res.StatusCode, res.Detail)
		default:
			status, detail = store.DeliveryRejected, fmt.Sprintf("push service answered %d %s", res.StatusCode, res.Detail)
		}
		if err := d.Store.RecordDelivery(ctx, p.n.ID, ChannelPush, sub.Endpoint, status, "webpush", detail); err != nil {
			errs = append(errs, err)
		}
		if status == store.DeliveryFailed {
			errs = append(errs, fmt.Errorf("%w: push: %s", ErrTemporary, detail))
		}
	}
	return reached, errors.Join(errs...)
}

// email sends the notification's email, within the quota; pushed tells
// whether push reached the user, for the downgrade decision.
func (d *Deliverer) email(ctx context.Context, p plan, pushed <-chan bool) error {
	if !p.email || d.Mail == nil || p.user.Email == "" {
		return nil
	}
	m, timeBound, ok := d.EmailFor(ctx, p.n, p.user)
	if !ok {
		return nil
	}
	// A crash between sending and recording below sends it again after the
	// restart: as the same message, which the recipient gets once.
	m.ID = "notification/" + p.n.ID + "/email/" + p.user.Email
	done, err := d.Store.DeliveryDone(ctx, p.n.ID, ChannelEmail, p.user.Email)
	if err != nil || done {
		return err
	}
	prio := mail.PriorityRoutine
	if p.emergency {
		prio = mail.PriorityEmergency
	}
	provider, err := d.Mail.Deliver(ctx, m, prio)
	switch {
	case err == nil:
		return d.Store.RecordDelivery(ctx, p.n.ID, ChannelEmail, p.user.Email, store.DeliverySent, provider, "")
	case errors.Is(err, mail.ErrQuotaExceeded) && timeBound:
		// A reminder is worthless tomorrow: push and in-app carry it today.
		reason := "daily email quota spent; delivered in-app"
		if <-pushed {
			reason = "daily email quota spent; delivered by push and in-app"
		}
		d.Mail.RecordOutcome(ctx, m, prio, mail.StatusDowngraded, errors.New(reason))
		return d.Store.RecordDelivery(ctx, p.n.ID, ChannelEmail, p.user.Email, store.DeliveryDowngraded, "", reason)
	case errors.Is(err, mail.ErrQuotaExceeded):
		due := mail.NextDay(d.Clock.Now())
		if err := d.Store.DeferEmail(ctx, store.DeferredEmail{To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML, Template: m.Template, DueAt: due}); err != nil {
			return err
		}
		d.Mail.RecordOutcome(ctx, m, prio, mail.StatusDeferred, fmt.Errorf("daily email quota spent; deferred to %s", due.Format(time.RFC3339)))
		return d.Store.RecordDelivery(ctx, p.n.ID, ChannelEmail, p.user.Email, store.DeliveryDeferred, "", "deferred to "+due.Format(time.RFC3339))
	case mail.Temporary(err):
		_ = d.Store.RecordDelivery(ctx, p.n.ID, ChannelEmail, p.user.Email, store.DeliveryFailed, "", err.Error())
		return fmt.Errorf("%w: email: %v", ErrTemporary, err)
	default:
		return d.Store.RecordDelivery(ctx, p.n.ID, ChannelEmail, p.user.Email, store.DeliveryRejected, "", err.Error())
	}
}

// sms texts the notification to the user's verified phone.
func (d *Deliverer) sms(ctx context.Context, p plan) error {
	if !p.sms || d.SMS == nil {
		return nil
	}
	to := *p.user.Phone
	done, err := d.Store.DeliveryDone(ctx, p.n.ID, ChannelSMS, to)
	if err != nil || done {
		return err
	}
	body := p.n.Title
	if p.n.Body != "" {
		body += ": " + p.n.Body
	}
	if u := NotificationURL(p.n, d.PublicURL); u != "" {
		body += " " + u
	}
	if err := d.SMS.SendSMS(ctx, to, truncate(body, 480)); err != nil {
		if !sms.Temporary(err) {
			// A refused number or message: trying again will not help.
			return d.Store.RecordDelivery(ctx, p.n.ID, ChannelSMS, to, store.DeliveryRejected, "twilio", err.Error())
		}
		_ = d.Store.RecordDelivery(ctx, p.n.ID, ChannelSMS, to, store.DeliveryFailed, "twilio", err.Error())
		return fmt.Errorf("%w: sms: %v", ErrTemporary, err)
	}
	return d.Store.RecordDelivery(ctx, p.n.ID, ChannelSMS, to, store.DeliverySent, "twilio", "")
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
