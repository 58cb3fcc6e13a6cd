package api

import (
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/feature/emergency"
)

// emergencyRoutes registers the routes of the emergency information card and emergency alerts.
func (s *Server) emergencyRoutes() {
	const base = "/care-recipients/{careRecipientId}/emergency"
	s.authed("GET", base+"/info", s.emergencyInfo)
	s.authed("POST", base+"/alerts", s.createAlert)
	s.authed("GET", base+"/alerts", s.openAlerts)
	s.authed("GET", base+"/alerts/history", s.alertHistory)
	s.authed("POST", base+"/alerts/{alertId}/acknowledge", s.acknowledgeAlert)
	s.authed("POST", base+"/alerts/{alertId}/resolve", s.resolveAlert)
}

// Alert history paging.
const (
	alertHistoryDefault = 20
	alertHistoryMax     = 100
)

// alertBody is the body of POST .../emergency/alerts.
type alertBody struct {
	Type        string  `json:"type"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Location    *string `json:"location"`
}

func (b *alertBody) Validate(p Problems) {
	if b.Type == "" {
		p.Add("type", "is required")
	} else {
		p.oneOf("type", b.Type, care.AlertTypes()...)
	}
	b.Title = p.line("title", b.Title, maxShortText)
	b.Description = p.text("description", b.Description, maxNotesLen)
	b.Location = p.optLine("location", b.Location, maxAddressLen)
}

// alertResolveBody is the body of POST .../alerts/{alertId}/resolve; it may
// be absent.
type alertResolveBody struct {
	ResolutionNotes *string `json:"resolutionNotes"`
}

func (b *alertResolveBody) Validate(p Problems) {
	b.ResolutionNotes = p.optText("resolutionNotes", b.ResolutionNotes, maxNotesLen)
}

// alertEmptyBody is the body of acknowledge: absent or {}.
type alertEmptyBody struct{}

func (*alertEmptyBody) Validate(Problems) {}

// createAlert raises an emergency for the care recipient and tells the rest
// of the family at once, on every channel (see emergency.Raise).
func (s *Server) createAlert(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	a, err := s.svc.Emergency.Raise(r.Context(), *p, crID, func() (emergency.NewAlert, error) {
		var b alertBody
		err := decode(w, r, &b)
		return emergency.NewAlert{Type: care.AlertType(b.Type), Title: b.Title, Description: b.Description,
			Location: b.Location}, err
	})
	return writeCreated(w, a, err)
}

// openAlerts lists the care recipient's ACTIVE and ACKNOWLEDGED alerts,
// newest first.
func (s *Server) openAlerts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return answerByID(w, r, p, "careRecipientId", s.svc.Emergency.Open, writeOK)
}

// alertHistory lists the care recipient's alerts in every status, newest
// first, at most ?limit (1 to 100, default 20).
func (s *Server) alertHistory(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	limit, err := queryWholeNumber(r, "limit", alertHistoryDefault, 1, alertHistoryMax)
	if err != nil {
		return err
	}
	list, err := s.svc.Emergency.History(r.Context(), *p, crID, limit)
	return writeOK(w, list, err)
}

// alertIDs reads the path's care recipient and alert ids.
func alertIDs(r *http.Request) (crID, id string, err error) {
	if crID, err = pathID(r, "careRecipientId"); err != nil {
		return "", "", err
	}
	id, err = pathID(r, "alertId")
	return crID, id, err
}

// acknowledgeAlert records that a member has seen an ACTIVE alert and is
// acting on it; any member may.
func (s *Server) acknowledgeAlert(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := alertIDs(r)
	if err != nil {
		return err
	}
	a, err := s.svc.Emergency.Acknowledge(r.Context(), *p, crID, id, func() (struct{}, error) {
		return struct{}{}, decodeOptional(w, r, &alertEmptyBody{})
	})
	return writeOK(w, a, err)
}

// resolveAlert closes an ACTIVE or ACKNOWLEDGED alert, with notes on how it
// ended; members who are not VIEWERs may.
func (s *Server) resolveAlert(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, id, err := alertIDs(r)
	if err != nil {
		return err
	}
	a, err := s.svc.Emergency.Resolve(r.Context(), *p, crID, id, func() (*string, error) {
		var b alertResolveBody
		err := decodeOptional(w, r, &b)
		return b.ResolutionNotes, err
	})
	return writeOK(w, a, err)
}
