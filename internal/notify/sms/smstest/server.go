// Package smstest runs a Twilio-compatible Messages API inside a test: it
// checks the account in the path and the basic auth, reads the form fields
// To, From and Body, refuses what Twilio refuses with Twilio's status codes,
// error codes and JSON, and records every message it accepts.
package smstest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// Twilio's magic test numbers: messages to them are refused with the error
// Twilio's test credentials give.
const (
	// InvalidNumber is refused with 21211: not a valid phone number.
	InvalidNumber = "+15005550001"
	// UnroutableNumber is refused with 21612: the number cannot be reached.
	UnroutableNumber = "+15005550002"
	// BlockedNumber is refused with 21610: the recipient replied STOP.
	BlockedNumber = "+15005550004"
	// LandlineNumber is refused with 21614: not a mobile number.
	LandlineNumber = "+15005550009"
)

// DefaultFrom is the sending number a new Server's account owns.
const DefaultFrom = "+15005550006"

// Message is one message the server accepted.
type Message struct {
	SID  string
	To   string
	From string
	Body string
}

// Failure is an answer the server gives instead of accepting a well-formed
// message: a status with Twilio's error code and message, and optionally a
// Retry-After header.
type Failure struct {
	Status     int
	Code       int
	Message    string
	RetryAfter string
}

// Server is the fake API. Its zero value is not usable; call NewServer.
type Server struct {
	// URL is the base URL to configure the client with.
	URL string
	// AccountSID, AuthToken and From are the account the server accepts.
	AccountSID string
	AuthToken  string
	From       string

	mu       sync.Mutex
	messages []Message
	failures []Failure
	requests int
	accepted chan Message
}

// NewServer starts a server for a fresh account, stopped when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		AccountSID: "AC" + randomHex(16),
		AuthToken:  randomHex(16),
		From:       DefaultFrom,
		accepted:   make(chan Message, 64),
	}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// FailNext makes the next len(f) well-formed requests fail, in order.
func (s *Server) FailNext(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f...)
}

// Messages returns the messages accepted so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Requests is how many requests reached the server, accepted or not.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Next waits up to timeout for the next accepted message; ok is false when
// none came.
func (s *Server) Next(timeout time.Duration) (m Message, ok bool) {
	select {
	case m := <-s.accepted:
		return m, true
	case <-time.After(timeout):
		return Message{}, false
	}
}

// e164 is the number form Twilio accepts.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// magic maps Twilio's test numbers to the refusals they produce.
var magic = map[string]Failure{
	InvalidNumber:    {http.StatusBadRequest, 21211, "The 'To' number " + InvalidNumber + " is not a valid phone number.", ""},
	UnroutableNumber: {http.StatusBadRequest, 21612, "The 'To' phone number: " + UnroutableNumber + ", is not currently reachable using the 'From' phone number: " + DefaultFrom + " via SMS.", ""},
	BlockedNumber:    {http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient", ""},
	LandlineNumber:   {http.StatusBadRequest, 21614, "'To' number is not a valid mobile number", ""},
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
	user, pass, ok := r.BasicAuth()
	if !ok || user != s.AccountSID || pass != s.AuthToken {
		writeError(w, Failure{http.StatusUnauthorized, 20003, "Authenticate", ""})
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/2010-04-01/Accounts/"+s.AccountSID+"/Messages.json" {
		writeError(w, Failure{http.StatusNotFound, 20404, "The requested resource " + r.URL.Path + " was not found", ""})
		return
	}
	// ParseForm reads the body only when it is form-encoded, as Twilio does.
	if err := r.ParseForm(); err != nil {
		writeError(w, Failure{http.StatusBadRequest, 20001, "Unable to parse request: " + err.Error(), ""})
		return
	}
	to, from, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("Body")
	var refusal *Failure
	switch {
	case to == "":
		refusal = &Failure{http.StatusBadRequest, 21604, "A 'To' phone number is required.", ""}
	case !e164.MatchString(to):
		refusal = &Failure{http.StatusBadRequest, 21211, "The 'To' number " + to + " is not a valid phone number.", ""}
	case from == "":
		refusal = &Failure{http.StatusBadRequest, 21603, "A 'From' phone number is required.", ""}
	case from != s.From:
		refusal = &Failure{http.StatusBadRequest, 21606, "The From phone number " + from + " is not a valid, SMS-capable inbound phone number or short code for your account.", ""}
	case body == "":
		refusal = &Failure{http.StatusBadRequest, 21602, "Message body is required.", ""}
	case utf8.RuneCountInString(body) > 1600:
		refusal = &Failure{http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.", ""}
	}
	if f, ok := magic[to]; ok && refusal == nil {
		refusal = &f
	}
	if refusal == nil {
		s.mu.Lock()
		if len(s.failures) > 0 {
			refusal = &s.failures[0]
			s.failures = s.failures[1:]
		}
		s.mu.Unlock()
	}
	if refusal != nil {
		writeError(w, *refusal)
		return
	}
	m := Message{SID: "SM" + randomHex(16), To: to, From: from, Body: body}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	select {
	case s.accepted <- m:
	default: // nobody is waiting with Next; Messages still has it
	}
	segments := 1
	if n := utf8.RuneCountInString(body); n > 160 {
		segments = (n + 152) / 153
	}
	uri := "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + m.SID + ".json"
	now := time.Now().UTC().Format(time.RFC1123Z)
	writeJSON(w, http.StatusCreated, map[string]any{
		"sid": m.SID, "account_sid": s.AccountSID, "to": to, "from": from, "body": body,
		"status": "queued", "direction": "outbound-api", "api_version": "2010-04-01",
		"num_segments": strconv.Itoa(segments), "num_media": "0",
		"date_created": now, "date_updated": now, "date_sent": nil, "price": nil, "price_unit": "USD",
		"error_code": nil, "error_message": nil, "messaging_service_sid": nil, "uri": uri,
		"subresource_uris": map[string]string{"media": uri[:len(uri)-len(".json")] + "/Media.json"},
	})
}

// writeError answers in Twilio's error shape.
func writeError(w http.ResponseWriter, f Failure) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	writeJSON(w, f.Status, map[string]any{
		"code": f.Code, "message": f.Message, "status": f.Status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", f.Code),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
