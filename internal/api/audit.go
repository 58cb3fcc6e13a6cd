package api

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/feature"
)

// maxAuditUserAgent bounds the user agent kept per audit entry.
const maxAuditUserAgent = 512

// maxAuditCapture bounds how much of a 201 answer is kept to read the
// created resource's id.
const maxAuditCapture = 64 << 10

// auditWrites wraps the handler of an authenticated write route so that
// each success is recorded in the audit log: who, the route
// ("POST /families/{familyId}/invite"), the resource it acted on, the
// client's address and user agent, and the status. The entry is written
// right after the handler succeeds; a failure to write it is logged, as the
// change has already been answered.
func (s *Server) auditWrites(method, pattern string, fn authedFunc) authedFunc {
	action := method + " " + pattern
	return func(w http.ResponseWriter, r *http.Request, p *Principal) error {
		rec := &auditWriter{statusWriter: statusWriter{ResponseWriter: w}}
		if err := fn(rec, r, p); err != nil {
			return err
		}
		if rec.status < 200 || rec.status > 299 {
			return nil
		}
		typ, id := auditResource(pattern, r, createdID(rec))
		if typ == "" {
			typ, id = "user", p.User.ID // a change to the caller's own account
		}
		ctx := context.WithoutCancel(r.Context())
		if err := s.appendAudit(ctx, r, p, action, typ, id, rec.status); err != nil {
			s.logger.ErrorContext(ctx, "audit entry not written", slog.String("action", action),
				slog.String("requestId", requestID(ctx)), slog.Any("error", err))
		}
		return nil
	}
}

// auditRead records a read of sensitive data (emergency information, a
// document's download or link, an export) by p. Call it once the data is
// about to be served and return its error, so that nothing sensitive is
// served that the log does not show.
func (s *Server) auditRead(r *http.Request, p *Principal, action, resourceType, resourceID string) error {
	return s.appendAudit(r.Context(), r, p, action, resourceType, resourceID, http.StatusOK)
}

func (s *Server) appendAudit(ctx context.Context, r *http.Request, p *Principal, action, typ, id string, status int) error {
	details, _ := json.Marshal(map[string]string{"requestId": requestID(ctx)})
	ip, ua := s.clientIP(r), r.UserAgent()
	if len(ua) > maxAuditUserAgent {
		ua = strings.ToValidUTF8(ua[:maxAuditUserAgent], "")
	}
	family := s.auditFamily(ctx, r, typ, id)
	return s.base.Audit(ctx, feature.AuditEntry{
		ActorID: &p.User.ID, Action: action, ResourceType: &typ, ResourceID: &id, FamilyID: &family,
		IP: &ip, UserAgent: &ua, Status: status, Details: details,
	})
}

// auditParams are the path parameters that name a resource, by the type of
// resource they name.
var auditParams = map[string]string{
	"familyId": "family", "careRecipientId": "care_recipient", "medicationId": "medication",
	"appointmentId": "appointment", "seriesId": "appointment_series", "shiftId": "shift",
	"doctorId": "doctor", "contactId": "emergency_contact", "memberId": "member",
	"invitationId": "invitation", "entryId": "timeline_entry", "alertId": "emergency_alert",
	"documentId": "document",
}

// auditCollections are path segments that name what a route creates, or
// what the {id} after them is.
var auditCollections = map[string]string{
	"families": "family", "care-recipients": "care_recipient", "medications": "medication",
	"log": "medication_log", "appointments": "appointment", "recurring": "appointment_series",
	"shifts": "shift", "doctors": "doctor", "emergency-contacts": "emergency_contact",
	"invite": "invitation", "transport": "transport_assignment", "failed": "job",
	"timeline": "timeline_entry", "alerts": "emergency_alert", "documents": "document",
}

func collectionType(seg string) string {
	if t, ok := auditCollections[seg]; ok {
		return t
	}
	return strings.ReplaceAll(strings.TrimSuffix(seg, "s"), "-", "_")
}

// pathParam reads a pattern segment "{name}" or "{name...}".
func pathParam(seg string) (string, bool) {
	if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
		return "", false
	}
	return strings.TrimSuffix(strings.Trim(seg, "{}"), "..."), true
}

// auditResource names the resource a write acted on: the most specific id
// in its path, or, for a creation, the new resource (created is its id).
// An invitation link's token is a secret and never recorded.
func auditResource(pattern string, r *http.Request, created string) (typ, id string) {
	segs := strings.Split(strings.Trim(pattern, "/"), "/")
	for i, seg := range segs {
		name, ok := pathParam(seg)
		if !ok {
			continue
		}
		t, known := auditParams[name]
		switch {
		case name == "token":
			typ, id = "invitation", ""
		case known:
			typ, id = t, r.PathValue(name)
		case i > 0:
			if _, prevParam := pathParam(segs[i-1]); !prevParam {
				typ, id = collectionType(segs[i-1]), r.PathValue(name)
			}
		}
	}
	// A handler that routes by itself (PATCH /appointments/{first}/{second})
	// sets the parameter it acted on.
	for name, t := range auditParams {
		if v := r.PathValue(name); v != "" && !strings.Contains(pattern, "{"+name+"}") {
			typ, id = t, v
		}
	}
	if created != "" {
		if last := segs[len(segs)-1]; !strings.HasPrefix(last, "{") {
			typ, id = collectionType(last), created
		}
	}
	return typ, id
}

// auditFamily is the family an audited request concerns, when its path or
// resource says: {familyId}, the family of {careRecipientId} or of the care
// recipient acted on, or the family itself.
func (s *Server) auditFamily(ctx context.Context, r *http.Request, typ, id string) string {
	if v := r.PathValue("familyId"); validUUID(v) {
		return v
	}
	if typ == "family" && validUUID(id) {
		return id
	}
	crID := r.PathValue("careRecipientId")
	if crID == "" && typ == "care_recipient" {
		crID = id
	}
	if !validUUID(crID) {
		return ""
	}
	return s.base.FamilyOf(ctx, crID)
}

// createdID reads the id of what a 201 answer created.
func createdID(w *auditWriter) string {
	if w.status != http.StatusCreated {
		return ""
	}
	var body struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(w.body.Bytes(), &body) != nil {
		return ""
	}
	return body.ID
}

// auditWriter records a response's status, and the start of a 201 answer.
type auditWriter struct {
	statusWriter
	body bytes.Buffer
}

func (w *auditWriter) Write(b []byte) (int, error) {
	if w.status == http.StatusCreated && w.body.Len() < maxAuditCapture {
		w.body.Write(b[:min(len(b), maxAuditCapture-w.body.Len())])
	}
	return w.statusWriter.Write(b)
}

// auditPage is the answer of GET /admin/audit.
type auditPage struct {
	Items []feature.AuditEntry `json:"items"`
	Total int                  `json:"total"`
	Page  int                  `json:"page"`
	Limit int                  `json:"limit"`
}

func (s *Server) auditRoutes() {
	s.authed("GET", "/admin/audit", s.listAudit)
}

// listAudit lets system admins read the audit log, newest first, filtered by
// actor (userId), exact action, and a time range (from inclusive, to
// exclusive; RFC 3339 instants, or YYYY-MM-DD dates in UTC, to including
// its whole day). Reading the log is itself recorded.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *Principal) error {
	if err := systemAdmin(p); err != nil {
		return err
	}
	q, page, err := auditQuery(r)
	if err != nil {
		return err
	}
	items, total, err := s.ops.AuditLog(r.Context(), q)
	if err != nil {
		return err
	}
	if err := s.auditRead(r, p, "audit.read", "audit_log", ""); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, auditPage{Items: items, Total: total, Page: page, Limit: q.Limit})
	return nil
}

// auditQuery reads the filters and paging of GET /admin/audit.
func auditQuery(r *http.Request) (feature.AuditQuery, int, error) {
	v := r.URL.Query()
	p := Problems{}
	var q feature.AuditQuery
	if id := v.Get("userId"); id != "" {
		p.uuidField("userId", id)
		q.ActorID = id
	}
	if a := v.Get("action"); len(a) > 300 {
		p.Add("action", "must be at most 300 characters")
	} else {
		q.Action = a
	}
	q.From = auditBound(p, "from", v.Get("from"), false)
	q.To = auditBound(p, "to", v.Get("to"), true)
	if q.From != nil && q.To != nil && !q.From.Before(*q.To) {
		p.Add("from", "must be before to")
	}
	page := p.wholeNumber("page", v.Get("page"), 1, 1, 1_000_000)
	q.Limit = p.wholeNumber("limit", v.Get("limit"), 50, 1, 200)
	q.Offset = (page - 1) * q.Limit
	return q, page, p.Err()
}

// auditBound reads an RFC 3339 instant or a UTC date; a date as the end of
// a range stands for the end of that day.
func auditBound(p Problems, field, v string, end bool) *time.Time {
	if v == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		p.Add(field, "must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		return nil
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return &d
}
