package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
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

// createAlert raises an emergency: the alert, its event and a notification
// to every other active member commit together, and the notification goes
// out on every channel at once (see internal/notify: EMERGENCY_ALERT ignores
// quiet hours and the preference switches, and may take the email reserve).
func (s *Server) createAlert(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	cr, m, err := s.careRecipientMember(r.Context(), p, crID, writer)
	if err != nil {
		return err
	}
	var b alertBody
	if err := decode(w, r, &b); err != nil {
		return err
	}
	var a *care.EmergencyAlert
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		a, err = s.store.CreateEmergencyAlert(ctx, store.NewEmergencyAlert{CareRecipientID: cr.ID, CreatedByID: p.User.ID,
			Type: care.AlertType(b.Type), Title: b.Title, Description: b.Description, Location: b.Location})
		if err != nil {
			return err
		}
		if err := s.emit(ctx, domainEvent{Type: events.EmergencyAlertCreated, FamilyID: m.FamilyID, CareRecipientID: cr.ID,
			ActorID: p.User.ID, Data: a}); err != nil {
			return err
		}
		data := alertNotificationData(a, m.FamilyID, p)
		data["description"] = a.Description
		if a.Location != nil {
			data["location"] = *a.Location
		}
		// The title is the alert's own: the email puts it under its
		// "EMERGENCY ALERT for ..." heading, push and SMS lead with it.
		text := care.EmergencyAlertText(p.User.FullName, cr, a)
		return s.notifyFamily(ctx, m.FamilyID, p.User.ID, nil, care.NotificationDraft{
			Type:      care.NotifyEmergencyAlert,
			Title:     text.Title,
			Body:      text.Body,
			Data:      data,
			DedupeKey: "emergency-alert:" + a.ID,
		})
	})
	if errors.Is(err, store.ErrReference) {
		return notFound("Care recipient") // deleted while the alert was raised
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

// alertNotificationData is what every notification about an alert carries:
// what internal/notify reads to link and describe it.
func alertNotificationData(a *care.EmergencyAlert, familyID string, p *Principal) map[string]any {
	return map[string]any{
		"alertId": a.ID, "careRecipientId": a.CareRecipientID, "familyId": familyID,
		"type": string(a.Type), "title": a.Title, "status": string(a.Status),
		"raisedBy": alertRaisedBy(a), "actorId": p.User.ID, "actorName": p.User.FullName,
	}
}

// alertRaisedBy is the name of the member who raised the alert, "" when
// their account is gone.
func alertRaisedBy(a *care.EmergencyAlert) string {
	if a.CreatedBy != nil {
		return a.CreatedBy.FullName
	}
	return ""
}

// openAlerts lists the care recipient's ACTIVE and ACKNOWLEDGED alerts,
// newest first.
func (s *Server) openAlerts(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	if _, _, err := s.careRecipientMember(r.Context(), p, crID, anyMember); err != nil {
		return err
	}
	list, err := s.store.OpenEmergencyAlerts(r.Context(), crID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// alertHistory lists the care recipient's alerts in every status, newest
// first, at most ?limit (1 to 100, default 20).
func (s *Server) alertHistory(w http.ResponseWriter, r *http.Request, p *Principal) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	limit, err := shiftQueryInt(r, "limit", alertHistoryDefault, 1, alertHistoryMax)
	if err != nil {
		return err
	}
	if _, _, err := s.careRecipientMember(r.Context(), p, crID, anyMember); err != nil {
		return err
	}
	list, err := s.store.EmergencyAlertHistory(r.Context(), crID, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

// alertStep is what differs between acknowledging and resolving.
type alertStep struct {
	action care.AlertAction
	need   need
	body   validator
	notes  func() *string
	event  string
	notify care.NotificationType
	// text words the family's notification: actor, care recipient, alert.
	text func(actor string, cr *care.CareRecipient, a *care.EmergencyAlert) care.Text
}

// transitionAlert takes st.action on the alert {alertId} of the care
// recipient {careRecipientId}; an alert of another care recipient is 404.
// The status check is the conditional update itself, so concurrent actions
// apply one at a time and the loser gets 409. The change, its event and the
// other members' notification commit together. Follow-ups reach the family
// as ordinary news (their own notification types, honouring quiet hours),
// not by the emergency path: nobody is woken at night to hear an alert is
// over.
func (s *Server) transitionAlert(w http.ResponseWriter, r *http.Request, p *Principal, st alertStep) error {
	crID, err := pathID(r, "careRecipientId")
	if err != nil {
		return err
	}
	id, err := pathID(r, "alertId")
	if err != nil {
		return err
	}
	cr, m, err := s.careRecipientMember(r.Context(), p, crID, st.need)
	if err != nil {
		return err
	}
	cur, err := s.store.EmergencyAlert(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && cur.CareRecipientID != crID) {
		return notFound("Emergency alert")
	}
	if err != nil {
		return err
	}
	if err := decodeOptional(w, r, st.body); err != nil {
		return err
	}
	var a *care.EmergencyAlert
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		var err error
		a, err = s.store.TransitionEmergencyAlert(ctx, id, store.AlertChange{Action: st.action, ActorID: p.User.ID, ResolutionNotes: st.notes()})
		if err != nil {
			return err
		}
		if err := s.emit(ctx, domainEvent{Type: st.event, FamilyID: m.FamilyID, CareRecipientID: cr.ID,
			ActorID: p.User.ID, Data: a}); err != nil {
			return err
		}
		text := st.text(p.User.FullName, cr, a)
		return s.notifyFamily(ctx, m.FamilyID, p.User.ID, nil, care.NotificationDraft{
			Type:      st.notify,
			Title:     text.Title,
			Body:      text.Body,
			Data:      alertNotificationData(a, m.FamilyID, p),
			DedupeKey: fmt.Sprintf("emergency-%s:%s", st.action, a.ID),
		})
	})
	var refused *care.AlertTransitionError
	switch {
	case errors.As(err, &refused):
		return conflict("Cannot %s an alert that is %s", refused.Action, refused.From)
	case errors.Is(err, store.ErrNotFound):
		return notFound("Emergency alert")
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// acknowledgeAlert records that a member has seen an ACTIVE alert and is
// acting on it; any member may.
func (s *Server) acknowledgeAlert(w http.ResponseWriter, r *http.Request, p *Principal) error {
	return s.transitionAlert(w, r, p, alertStep{
		action: care.AlertAcknowledge, need: anyMember, body: &alertEmptyBody{},
		notes: func() *string { return nil },
		event: events.EmergencyAlertAcked, notify: care.NotifyEmergencyAcknowledged,
		text: care.EmergencyAcknowledgedText,
	})
}

// resolveAlert closes an ACTIVE or ACKNOWLEDGED alert, with notes on how it
// ended; members who are not VIEWERs may.
func (s *Server) resolveAlert(w http.ResponseWriter, r *http.Request, p *Principal) error {
	var b alertResolveBody
	return s.transitionAlert(w, r, p, alertStep{
		action: care.AlertResolve, need: writer, body: &b,
		notes: func() *string { return b.ResolutionNotes },
		event: events.EmergencyAlertResolved, notify: care.NotifyEmergencyResolved,
		text: care.EmergencyResolvedText,
	})
}
