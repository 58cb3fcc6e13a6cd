package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/feature"
)

// Error is an HTTP error with a message a client may see.
type Error struct {
	Status  int
	Message string
	Fields  map[string][]string
	// Header values to set on the response (e.g. Retry-After).
	Header http.Header
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s", e.Status, e.Message) }

// errorf builds an Error with a formatted message.
func errorf(status int, format string, args ...any) *Error {
	return &Error{Status: status, Message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, format, args...)
}
func forbidden(format string, args ...any) *Error {
	return errorf(http.StatusForbidden, format, args...)
}
func conflict(format string, args ...any) *Error { return errorf(http.StatusConflict, format, args...) }
func unauthorized(msg string) *Error             { return &Error{Status: http.StatusUnauthorized, Message: msg} }

// envelope is the contract's error body.
type envelope struct {
	StatusCode int                 `json:"statusCode"`
	Message    string              `json:"message"`
	Error      string              `json:"error"`
	Timestamp  string              `json:"timestamp"`
	Path       string              `json:"path"`
	RequestID  string              `json:"requestId"`
	Errors     map[string][]string `json:"errors,omitempty"`
}

// toError maps any error to the Error a client sees. Store sentinels become
// 404/409; anything unknown is a 500 without detail.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if fe, ok := feature.AsError(err); ok {
		out := &Error{Status: kindStatus(fe.Kind), Message: fe.Message, Fields: fe.Fields}
		if fe.RetryAfter > 0 {
			out.Header = http.Header{"Retry-After": {strconv.Itoa(int((fe.RetryAfter + time.Second - 1) / time.Second))}}
		}
		return out
	}
	return &Error{Status: http.StatusInternalServerError, Message: "Internal server error"}
}

// kindStatus is the HTTP status of each kind of application failure.
func kindStatus(k feature.Kind) int {
	switch k {
	case feature.KindInvalid:
		return http.StatusBadRequest
	case feature.KindUnauthenticated:
		return http.StatusUnauthorized
	case feature.KindForbidden:
		return http.StatusForbidden
	case feature.KindNotFound:
		return http.StatusNotFound
	case feature.KindConflict:
		return http.StatusConflict
	case feature.KindGone:
		return http.StatusGone
	case feature.KindTooLarge:
		return http.StatusRequestEntityTooLarge
	case feature.KindUnsupported:
		return http.StatusUnsupportedMediaType
	case feature.KindUnprocessable:
		return http.StatusUnprocessableEntity
	case feature.KindTooMany:
		return http.StatusTooManyRequests
	case feature.KindNotImplemented:
		return http.StatusNotImplemented
	case feature.KindUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// writeError renders err in the error envelope, logging server faults.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := toError(err)
	if clientGone(r, err) {
		// Not a fault: the client stopped waiting (a page navigated away),
		// and no one reads the answer.
		s.logger.DebugContext(r.Context(), "request abandoned by the client", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("requestId", requestID(r.Context())))
	} else if e.Status >= 500 {
		s.logger.ErrorContext(r.Context(), "request failed", slog.String("method", r.Method),
			slog.String("path", r.URL.Path), slog.String("requestId", requestID(r.Context())),
			slog.Any("error", err))
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	writeEnvelope(w, r, s.clock.Now(), e)
}

// clientGone tells an error that only says the client went away while its
// request was being served.
func clientGone(r *http.Request, err error) bool {
	return errors.Is(err, context.Canceled) && errors.Is(r.Context().Err(), context.Canceled)
}

func writeEnvelope(w http.ResponseWriter, r *http.Request, now time.Time, e *Error) {
	writeJSON(w, e.Status, envelope{
		StatusCode: e.Status,
		Message:    e.Message,
		Error:      http.StatusText(e.Status),
		Timestamp:  now.UTC().Format(time.RFC3339Nano),
		Path:       r.URL.Path,
		RequestID:  requestID(r.Context()),
		Errors:     e.Fields,
	})
}

// writeJSON writes v as the JSON response body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// Problems collects validation failures by field.
type Problems map[string][]string

// Add records a reason against a field.
func (p Problems) Add(field, reason string) { p[field] = append(p[field], reason) }

// Err returns the 400 validation error, or nil when there are no problems.
func (p Problems) Err() error {
	if len(p) == 0 {
		return nil
	}
	fields := make([]string, 0, len(p))
	for f := range p {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	return &Error{
		Status:  http.StatusBadRequest,
		Message: "Validation failed for: " + strings.Join(fields, ", "),
		Fields:  p,
	}
}
