package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/store"
)

// appointmentNextCount is how many occurrences past a created series'
// last are shown (as virtual occurrences) when the rule goes on.
const appointmentNextCount = 5

// occurrenceView is one occurrence of a series: stored (with the
// appointment's id and status) or virtual (one the rule gives but that was
// not stored).
type occurrenceView struct {
	Index         int                     `json:"index"`
	StartTime     time.Time               `json:"startTime"`
	EndTime       time.Time               `json:"endTime"`
	Virtual       bool                    `json:"virtual"`
	AppointmentID *string                 `json:"appointmentId"`
	Status        *care.AppointmentStatus `json:"status"`
}

// virtualOccurrences presents occurrences of appointments lasting d.
func virtualOccurrences(occ []care.Occurrence, d time.Duration) []occurrenceView {
	out := make([]occurrenceView, 0, len(occ))
	for _, o := range occ {
		out = append(out, occurrenceView{Index: o.Index, StartTime: o.Start.UTC(), EndTime: o.Start.Add(d).UTC(), Virtual: true})
	}
	return out
}

// seriesCreated answers POST .../appointments/recurring.
type seriesCreated struct {
	SeriesID     string             `json:"seriesId"`
	TotalCreated int                `json:"totalCreated"`
	Appointments []care.Appointment `json:"appointments"`
	// NextOccurrences are the rule's next occurrences after the last one
	// created, not stored; Truncated says the rule goes on past the cap.
	NextOccurrences []occurrenceView `json:"nextOccurrences"`
	Truncated       bool             `json:"truncated"`
}

// createdAppointment answers POST .../appointments: the (first) appointment,
// and for a series its id and size.
type createdAppointment struct {
	care.Appointment
	SeriesID     *string `json:"seriesId,omitempty"`
	TotalCreated int     `json:"totalCreated,omitempty"`
}

// createAppointment creates one appointment or, when the body asks for a
// recurrence, a series (as createRecurringAppointments does), answering with
// its first appointment.
func (s *Server) createAppointment(w http.ResponseWriter, r *http.Request, p *Principal) error {
	res, err := s.createAppointments(w, r, p, false)
	if err != nil {
		return err
	}
	out := createdAppointment{Appointment: res.Appointments[0]}
	if res.SeriesID != "" {
		out.SeriesID, out.TotalCreated = &res.SeriesID, res.TotalCreated
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// createRecurringAppointments expands a recurrence in the care recipient's
// zone and stores its first ?maxOccurrences (default 52, at most 366)
// occurrences as one series, in one transaction.
func (s *Server) createRecurringAppointments(w http.ResponseWriter, r *http.Request, p *Principal) error {
	res, err := s.createAppointments(w, r, p, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, res)
	return nil
}

func (s *Server) createAppointments(w http.ResponseWriter, r *http.Request, p *Principal, series bool) (*seriesCreated, error) {
	cr, err := s.careRecipientAccess(r, p, "careRecipientId", writer)
	if err != nil {
		return nil, err
	}
	limit, err := appointmentQueryInt(r, "maxOccurrences", care.DefaultSeriesOccurrences, 1, care.MaxSeriesOccurrences)
	if err != nil {
		return nil, err
	}
	var b appointmentBody
	if err := decode(w, r, &b); err != nil {
		return nil, err
	}
	if series && !b.recurring() {
		return nil, Problems{"recurrence": {"is required (or recurrenceRule)"}}.Err()
	}
	if err := s.resolveDoctorName(r.Context(), cr.ID, &b); err != nil {
		return nil, err
	}
	rule, err := b.recurrence(appointmentZone(cr))
	if err != nil {
		return nil, err
	}
	n := store.NewAppointments{
		Appointment: care.Appointment{
			CareRecipientID: cr.ID, DoctorID: b.DoctorID, Title: b.Title, Type: care.AppointmentType(b.Type),
			StartTime: b.start, EndTime: b.end, Location: b.Location, Address: b.Address, Notes: b.Notes,
			ReminderMinutes: b.ReminderMinutes,
		},
		CreatedByID: p.User.ID,
	}
	if b.TransportAssignedToID != nil {
		n.TransportToID = *b.TransportAssignedToID
	}
	res := &seriesCreated{NextOccurrences: []occurrenceView{}}
	if rule != nil {
		occ := rule.First(limit + appointmentNextCount)
		if len(occ) == 0 {
			field := "recurrenceRule"
			if b.RecurrenceRule == nil {
				field = "recurrence"
			}
			return nil, Problems{field: {"gives no occurrence"}}.Err()
		}
		created := occ[:min(limit, len(occ))]
		for _, o := range created {
			n.Occurrences = append(n.Occurrences, o.Start)
		}
		text := rule.String()
		n.RecurrenceRule = &text
		res.NextOccurrences = virtualOccurrences(occ[len(created):], b.end.Sub(b.start))
		res.Truncated = len(occ) > len(created)
	}
	err = s.store.Atomically(r.Context(), func(ctx context.Context) error {
		list, err := s.store.CreateAppointments(ctx, n)
		if err != nil {
			return err
		}
		res.Appointments, res.TotalCreated = list, len(list)
		if rule != nil {
			res.SeriesID = *list[0].RecurringSeriesID
		}
		return s.announceAppointments(ctx, p, cr, res)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("Care recipient")
	}
	if err != nil {
		return nil, appointmentWriteError(err, "transportAssignedToId")
	}
	return res, nil
}

// announceAppointments announces new appointments (one event for a whole
// series) and tells the family about them, and their driver about the
// transport.
func (s *Server) announceAppointments(ctx context.Context, p *Principal, cr *care.CareRecipient, res *seriesCreated) error {
	first := res.Appointments[0]
	created := events.AppointmentCreatedData{Appointment: first}
	if res.SeriesID != "" {
		ids := make([]string, len(res.Appointments))
		for i, a := range res.Appointments {
			ids[i] = a.ID
		}
		created.SeriesID, created.TotalCreated, created.AppointmentIDs = res.SeriesID, res.TotalCreated, ids
	}
	if err := s.emitAppointment(ctx, p, cr, events.AppointmentCreated, created); err != nil {
		return err
	}
	data := map[string]any{"appointmentId": first.ID, "careRecipientId": cr.ID,
		"startTime": first.StartTime.Format(time.RFC3339)}
	total := 1
	if res.SeriesID != "" {
		data["seriesId"] = res.SeriesID
		total = res.TotalCreated
	}
	what := care.AppointmentWhat(cr, &first, total)
	text := care.AppointmentCreatedText(p.User.FullName, cr, first.Title, what)
	err := s.notifyFamily(ctx, cr.FamilyID, p.User.ID, nil, care.NotificationDraft{
		Type: care.NotifyGeneral, Title: text.Title, Body: text.Body,
		Data: data, DedupeKey: "appointment-created:" + first.ID,
	})
	if err != nil {
		return err
	}
	if first.TransportAssignment == nil {
		return nil
	}
	if err := s.emitAppointment(ctx, p, cr, events.AppointmentTransport, transportAssigned(first)); err != nil {
		return err
	}
	return s.notifyTransport(ctx, p, cr, first, what)
}

// transportAssigned is the data of an appointment.transport_assigned event:
// the assignment as the API answers it, with the appointment's series.
func transportAssigned(a care.Appointment) events.TransportData {
	return events.TransportData{TransportAssignment: a.TransportAssignment, RecurringSeriesID: a.RecurringSeriesID}
}

// notifyTransport tells the driver of an appointment about the assignment,
// unless they made it themselves.
func (s *Server) notifyTransport(ctx context.Context, p *Principal, cr *care.CareRecipient, a care.Appointment, what string) error {
	tr := a.TransportAssignment
	if tr == nil || tr.AssignedToID == p.User.ID {
		return nil
	}
	data := map[string]any{"appointmentId": a.ID, "careRecipientId": cr.ID,
		"startTime": a.StartTime.Format(time.RFC3339), "transportAssignmentId": tr.ID}
	if a.RecurringSeriesID != nil {
		data["seriesId"] = *a.RecurringSeriesID
	}
	text := care.TransportAssignedText(p.User.FullName, cr, what)
	return s.notifyUsers(ctx, []string{tr.AssignedToID}, care.NotificationDraft{
		Type: care.NotifyGeneral, Title: text.Title, Body: text.Body,
		Data: data,
		DedupeKey: "transport-assigned:" + a.ID + ":" + tr.AssignedToID + ":" +
			strconv.FormatInt(tr.UpdatedAt.UnixMicro(), 10),
	})
}
