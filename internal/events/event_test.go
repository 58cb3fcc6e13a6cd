package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

func TestEventEnvelopeMatchesContract(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2025, 3, 30, 1, 30, 0, 123456789, time.FixedZone("CET", 3600)))
	e, err := NewEvent(clk, "emergency.alert.created", map[string]string{"alertId": "a1"})
	if err != nil {
		t.Fatal(err)
	}
	e.CorrelationID, e.CausedBy, e.FamilyID = "req-1", "user-1", "fam-1"

	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"id":              e.ID,
		"type":            "emergency.alert.created",
		"source":          "carecircle-api",
		"timestamp":       "2025-03-30T00:30:00.123Z",
		"specVersion":     "1.0",
		"data":            map[string]any{"alertId": "a1"},
		"correlationId":   "req-1",
		"causedBy":        "user-1",
		"familyId":        "fam-1",
		"careRecipientId": nil,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("envelope\n got %v\nwant %v", got, want)
	}
	if e.RoutingKey() != "emergency.alert.created" {
		t.Errorf("routing key %q", e.RoutingKey())
	}

	back, err := DecodeEvent(body)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Timestamp.Equal(e.Timestamp) || back.ID != e.ID || back.FamilyID != "fam-1" ||
		back.CareRecipientID != "" || string(back.Data) != `{"alertId":"a1"}` {
		t.Errorf("round trip changed the event:\n got %+v\nwant %+v", back, e)
	}
}

func TestNewEventIDsAreUniqueAndOrdered(t *testing.T) {
	t.Parallel()
	clk := clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	a, _ := NewEvent(clk, "medication.logged", nil)
	clk.Advance(time.Millisecond)
	b, _ := NewEvent(clk, "medication.logged", nil)
	if a.ID == b.ID || a.ID > b.ID {
		t.Errorf("ids %s then %s are not unique and increasing", a.ID, b.ID)
	}
	if string(a.Data) != "{}" {
		t.Errorf("nil data encoded as %s, want {}", a.Data)
	}
}

func TestEventMissingDataIsEmptyObject(t *testing.T) {
	t.Parallel()
	e := Event{ID: "x", Type: "family.member.removed", Timestamp: time.Unix(0, 0)}
	body, err := json.Marshal(e)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(body), `"data":{}`) || !strings.Contains(string(body), `"source":"carecircle-api"`) {
		t.Errorf("body %s lacks defaults", body)
	}
}

func TestDecodeEventRejectsBrokenEnvelopes(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"not json":       `this is not json`,
		"no id":          `{"type":"medication.logged","timestamp":"2025-01-01T00:00:00Z","data":{}}`,
		"one-word type":  `{"id":"1","type":"medication","timestamp":"2025-01-01T00:00:00Z","data":{}}`,
		"upper type":     `{"id":"1","type":"Medication.Logged","timestamp":"2025-01-01T00:00:00Z","data":{}}`,
		"no timestamp":   `{"id":"1","type":"medication.logged","data":{}}`,
		"bad timestamp":  `{"id":"1","type":"medication.logged","timestamp":"yesterday","data":{}}`,
		"id wrong type":  `{"id":1,"type":"medication.logged","timestamp":"2025-01-01T00:00:00Z"}`,
		"empty document": ``,
	} {
		if _, err := DecodeEvent([]byte(body)); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: err = %v, want ErrInvalidEvent", name, err)
		}
	}
	unfinished := Event{ID: "1", Type: "medication.logged", Timestamp: time.Unix(0, 0), Data: json.RawMessage(`{"a":`)}
	if err := unfinished.Validate(); !errors.Is(err, ErrInvalidEvent) {
		t.Errorf("data that is not JSON: err = %v, want ErrInvalidEvent", err)
	}
	ok := `{"id":"1","type":"care_recipient.created","timestamp":"2025-01-01T02:00:00+02:00","data":{"a":1},"familyId":null}`
	e, err := DecodeEvent([]byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if !e.Timestamp.Equal(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) || e.Timestamp.Location() != time.UTC {
		t.Errorf("timestamp %v, want midnight UTC", e.Timestamp)
	}
}

func TestBackoffDoublesUpToMax(t *testing.T) {
	t.Parallel()
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := b.Delay(i); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %v, want %v", i, got, w*time.Millisecond)
		}
	}
	j := Backoff{Initial: time.Second, Max: time.Second, Multiplier: 2, Jitter: 0.5}
	for range 100 {
		if d := j.Delay(3); d < 500*time.Millisecond || d > time.Second {
			t.Fatalf("jittered delay %v outside [500ms, 1s]", d)
		}
	}
	if got := (Backoff{}).withDefaults(defaultReconnect); got != defaultReconnect {
		t.Errorf("zero backoff became %+v", got)
	}
}

func TestPermanentIsDetectedThroughWrapping(t *testing.T) {
	t.Parallel()
	base := errors.New("recipient deleted")
	err := fmt.Errorf("notify: %w", Permanent(base))
	if !IsPermanent(err) || !errors.Is(err, base) {
		t.Errorf("IsPermanent(%v) = false or lost the cause", err)
	}
	if IsPermanent(base) || Permanent(nil) != nil {
		t.Error("plain errors or nil must not be permanent")
	}
}

func TestTopologyNames(t *testing.T) {
	t.Parallel()
	top := Topology{Consumers: []string{"notifications", "audit"}}
	got := []string{top.DomainExchange(), top.NotificationsExchange(), top.AuditExchange(),
		top.DeadLetterExchange(), top.Queue("audit"), top.DeadLetterQueue("audit")}
	want := []string{"carecircle.domain.events", "carecircle.notifications", "carecircle.audit",
		"carecircle.dlx", "carecircle.audit", "carecircle.audit.dlq"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("names %v, want %v", got, want)
	}
	if err := top.Validate(); err != nil {
		t.Error(err)
	}
	for _, bad := range []Topology{
		{Prefix: "has space"},
		{Consumers: []string{""}},
		{Consumers: []string{"a", "a"}},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v validated", bad)
		}
	}
}

func TestOptionsRejectBadURL(t *testing.T) {
	t.Parallel()
	if _, err := NewPublisher(PublisherOptions{ConnOptions: ConnOptions{URL: "http://x"}}); err == nil {
		t.Error("publisher accepted an http URL")
	}
	if _, err := NewConsumer(ConsumerOptions{ConnOptions: ConnOptions{URL: "amqp://x/", Topology: Topology{Prefix: "a b"}}}); err == nil {
		t.Error("consumer accepted a bad topology")
	}
}
