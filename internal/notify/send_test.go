package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/notify/notifytest"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestSendAppliesPreferencesWritesAndAnnounces: Send leaves out the users
// who turned the kind off (never for an emergency), writes each
// notification once per dedupe key, announces what it wrote with one event
// (notification.created, or the notice's own domain event, which goes out
// even when nobody was notified), commits with the caller's transaction or
// not at all, and the Deliverer sends what the event announces.
func TestSendAppliesPreferencesWritesAndAnnounces(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 100)
		ctx := context.Background()
		n := notify.Notifier{Store: r.st, Clock: r.clk}
		off := care.DefaultNotificationPreferences()
		off.MedicationReminders, off.FamilyActivity = false, false
		quiet := r.user(t, "off@carecircle.test", &off, "")
		keen := r.user(t, "keen@carecircle.test", nil, "")

		due := notify.Notice{To: []string{quiet.ID, keen.ID}, Type: care.NotifyMedicationReminder,
			Text: care.Text{Title: "Metformin is due", Body: "500 mg"}, Data: map[string]any{"medicationId": "m1"}, DedupeKey: "dose-1"}
		alert := notify.Notice{To: []string{quiet.ID, keen.ID}, Type: care.NotifyEmergencyAlert,
			Text: care.Text{Title: "Emergency"}, Data: map[string]any{"alertId": "a1"}, DedupeKey: "alert-1"}
		created, err := n.Send(ctx, due, alert)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, c := range created {
			got[string(c.Type)+" to "+c.UserID] = true
		}
		want := map[string]bool{
			string(care.NotifyMedicationReminder) + " to " + keen.ID: true,
			string(care.NotifyEmergencyAlert) + " to " + keen.ID:     true,
			string(care.NotifyEmergencyAlert) + " to " + quiet.ID:    true,
		}
		if len(got) != len(want) {
			t.Fatalf("created %v, want %v", got, want)
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("created %v, want %v", got, want)
			}
		}
		// The same keys again write nothing and announce nothing.
		if again, err := n.Send(ctx, due, alert); err != nil || len(again) != 0 {
			t.Fatalf("sent again: %v, %v", again, err)
		}
		// A reminder's own event goes out even when everyone turned it off.
		reminder := notify.Notice{To: []string{quiet.ID}, Type: care.NotifyMedicationReminder, Text: care.Text{Title: "Due"},
			DedupeKey: "dose-2", FamilyID: uuid.NewString(), Event: events.MedicationReminder,
			EventData: map[string]any{"medicationId": "m1", "medicationName": "Metformin"}}
		if c, err := n.Send(ctx, reminder); err != nil || len(c) != 0 {
			t.Fatalf("reminder to nobody: %v, %v", c, err)
		}
		// A transaction that rolls back keeps neither rows nor events.
		boom := errors.New("boom")
		err = r.st.Atomically(ctx, func(ctx context.Context) error {
			if _, err := n.Send(ctx, notify.Notice{To: []string{keen.ID}, Type: care.NotifyGeneral, Text: care.Text{Title: "x"}}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}

		rows := notifytest.Audit(t, r.st)
		if len(rows) != 3 {
			t.Fatalf("%d notifications, want 3", len(rows))
		}
		pending, err := r.st.PendingEvents(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, p := range pending {
			types = append(types, p.Type)
		}
		if strings.Join(types, ",") != "notification.created,notification.created,medication.reminder" {
			t.Fatalf("events %v", types)
		}
		// The channels deliver what the events announce.
		for _, p := range pending {
			var e events.Event
			if err := json.Unmarshal(p.Envelope, &e); err != nil {
				t.Fatal(err)
			}
			if err := r.d.Handle(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range created {
			if s := r.statuses(t, c.ID); s[notify.ChannelPush] != store.DeliverySent {
				t.Fatalf("%s to %s: %v", c.Type, c.UserID, s)
			}
		}
	})
}

// TestQuotaWarningGoesThroughThePipeline: the email quota warning reaches
// each system administrator once per provider and day, announced like any
// other notification.
func TestQuotaWarningGoesThroughThePipeline(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		r := newRig(t, open, 100)
		ctx := context.Background()
		admin := r.user(t, "root@carecircle.test", nil, "")
		if _, err := r.st.DB().ExecContext(ctx, `UPDATE users SET system_role = 'ADMIN' WHERE id = $1`, admin.ID); err != nil {
			t.Fatal(err)
		}
		r.user(t, "plain@carecircle.test", nil, "")
		warn := notify.QuotaWarner(&notify.Notifier{Store: r.st, Clock: r.clk}, slog.New(slog.NewTextHandler(io.Discard, nil)))
		w := mail.QuotaWarning{Provider: "brevo", Used: 240, Limit: 300, Day: r.clk.Now().Truncate(24 * time.Hour)}
		warn(ctx, w)
		warn(ctx, w)
		rows := notifytest.Audit(t, r.st)
		if len(rows) != 1 || rows[0].UserID != admin.ID || rows[0].Event != events.NotificationCreated {
			t.Fatalf("notifications %+v", rows)
		}
	})
}

// TestNotificationsAreCreatedInOnePlace: outside the store and tests, only
// the pipeline (send.go) writes notification rows or reads the switches
// that turn a kind of notification off.
func TestNotificationsAreCreatedInOnePlace(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); name == "node_modules" || strings.HasPrefix(name, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		slash := filepath.ToSlash(path)
		if strings.Contains(slash, "/internal/store/") || strings.HasSuffix(slash, "/internal/notify/send.go") ||
			strings.Contains(slash, "/notifytest/") || strings.HasSuffix(slash, "/internal/care/preferences.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				switch sel.Sel.Name {
				case "InsertNotifications", "WantsNotification":
					t.Errorf("%s calls %s: notifications are created by notify.Notifier.Send", slash, sel.Sel.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
