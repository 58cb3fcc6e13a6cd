package webpush

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestPayloadJSONShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{
			name: "minimal message keeps the fields the service worker reads",
			msg:  Message{Title: "Medication due", Body: "Metformin 500 mg", URL: "/medications"},
			want: `{"title":"Medication due","body":"Metformin 500 mg","requireInteraction":false,"data":{"url":"/medications"}}`,
		},
		{
			name: "no url still sends an empty data object",
			msg:  Message{Title: "t"},
			want: `{"title":"t","body":"","requireInteraction":false,"data":{}}`,
		},
		{
			name: "URL wins over data.url and data is merged",
			msg: Message{
				Title: "Emergency", Body: "b", Icon: "/i.png", Tag: "emergency-1", URL: "/emergency/1",
				RequireInteraction: true,
				Actions:            []Action{{Action: "acknowledge", Title: "Acknowledge"}},
				Data:               map[string]any{"url": "/elsewhere", "alertId": "1"},
			},
			want: `{"title":"Emergency","body":"b","icon":"/i.png","tag":"emergency-1","requireInteraction":true,` +
				`"data":{"alertId":"1","url":"/emergency/1"},"actions":[{"action":"acknowledge","title":"Acknowledge"}]}`,
		},
	}
	for _, tc := range tests {
		got, err := PayloadJSON(tc.msg)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
}

func TestPayloadJSONDoesNotChangeTheCallersData(t *testing.T) {
	t.Parallel()
	data := map[string]any{"alertId": "1"}
	if _, err := PayloadJSON(Message{URL: "/emergency/1", Data: data}); err != nil {
		t.Fatal(err)
	}
	if len(data) != 1 {
		t.Errorf("caller's data gained keys: %v", data)
	}
}

func TestPayloadJSONReportsUnencodableData(t *testing.T) {
	t.Parallel()
	var unsupported *json.UnsupportedTypeError
	_, err := PayloadJSON(Message{Data: map[string]any{"c": make(chan int)}})
	if !errors.As(err, &unsupported) {
		t.Fatalf("err = %v, want a wrapped *json.UnsupportedTypeError", err)
	}
}

func TestPriorityHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		p       Priority
		urgency string
		ttl     time.Duration
	}{
		{Emergency, "high", 24 * time.Hour},
		{High, "high", time.Hour},
		{Normal, "normal", 4 * time.Hour},
		{"", "normal", 4 * time.Hour},
		{Low, "low", 12 * time.Hour},
	}
	for _, tc := range tests {
		if got := tc.p.Urgency(); got != tc.urgency {
			t.Errorf("%q.Urgency() = %q, want %q", tc.p, got, tc.urgency)
		}
		if got := tc.p.TTL(); got != tc.ttl {
			t.Errorf("%q.TTL() = %s, want %s", tc.p, got, tc.ttl)
		}
	}
}
