package appointments

import (
	"context"
	"strconv"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/feature"
	"github.com/carecircle/carecircle/internal/store"
)

// nextCount is how many occurrences past a created series' last are shown
// (as virtual occurrences) when the rule goes on.
const nextCount = 5

// Draft is a new appointment as a caller asks for it: a single one or,
// with a Rule, the first of a series.
type Draft struct {
	// Appointment holds the fields every created appointment shares (its
	// care recipient is the one it is created for); its StartTime and
	// EndTime are those of the first.
	Appointment care.Appointment
	// DoctorName, sent by existing clients in place of a doctor's id,
	// names one of the care recipient's doctors, letter case aside; a name
	// matching none heads the notes, so nothing the client sent is lost.
	DoctorName *string
	// TransportToID, when set, makes that member the driver to every
	// appointment created.
	TransportToID string
	// Rule, when not nil, makes a series of its first Limit occurrences
	// (in the care recipient's zone); RuleField names the input that gave
	// it, for a rule that gives no occurrence.
	Rule      *care.Recurrence
	RuleField string
	Limit     int
}

// Occurrence is one occurrence of a series: stored (with the appointment's
// id and status) or virtual (one the rule gives but that was not stored).
type Occurrence struct {
	Index         int                     `json:"index"`
	StartTime     time.Time               `json:"startTime"`
	EndTime       time.Time               `json:"endTime"`
	Virtual       bool                    `json:"virtual"`
	AppointmentID *string                 `json:"appointmentId"`
	Status        *care.AppointmentStatus `json:"status"`
}

// virtualOccurrences presents occurrences of appointments lasting d.
func virtualOccurrences(occ []care.Occurrence, d time.Duration) []Occurrence {
	out := make([]Occurrence, 0, len(occ))
	for _, o := range occ {
		out = append(out, Occurrence{Index: o.Index, StartTime: o.Start.UTC(), EndTime: o.Start.Add(d).UTC(), Virtual: true})
	}
	return out
}

// storedOccurrence presents a stored appointment as an occurrence.
func storedOccurrence(index int, a care.Appointment) Occurrence {
	id, status := a.ID, a.Status
	return Occurrence{Index: index, StartTime: a.StartTime, EndTime: a.EndTime, AppointmentID: &id, Status: &status}
}

// Created is what Create made: the appointments, earliest first, and for a
// series its id and size.
type Created struct {
	SeriesID     string             `json:"seriesId"`
	TotalCreated int                `json:"totalCreated"`
	Appointments []care.Appointment `json:"appointments"`
	// NextOccurrences are the rule's next occurrences after the last one
	// created, not stored; Truncated says the rule goes on past the cap.
	NextOccurrences []Occurrence `json:"nextOccurrences"`
	Truncated       bool         `json:"truncated"`
}

// Create adds an appointment, or a series of them in one transaction, to
// the care recipient crID (a writer's command). read is given the care
// recipient's zone, in which a series' rule is read. The family is told of
// the new appointments, and their driver of the transport.
func (s *Service) Create(ctx context.Context, a feature.Actor, crID string, read func(loc *time.Location) (Draft, error)) (*Created, error) {
	cr, _, err := s.b.CareRecipient(ctx, a, crID, feature.Writer)
	if err != nil {
		return nil, err
	}
	d, err := read(feature.Zone(cr.Timezone))
	if err != nil {
		return nil, err
	}
	appt := d.Appointment
	if d.DoctorName != nil {
		id, found, err := s.doctorNamed(ctx, cr.ID, *d.DoctorName)
		if err != nil {
			return nil, err
		}
		if found {
			appt.DoctorID = &id
		} else {
			notes := "Doctor: " + *d.DoctorName
			if appt.Notes != nil {
				notes += "\n" + *appt.Notes
			}
			appt.Notes = &notes
		}
	}
	appt.CareRecipientID = cr.ID
	n := store.NewAppointments{Appointment: appt, TransportToID: d.TransportToID, CreatedByID: a.ID()}
	res := &Created{NextOccurrences: []Occurrence{}}
	if d.Rule != nil {
		occ := d.Rule.First(d.Limit + nextCount)
		if len(occ) == 0 {
			return nil, feature.FieldError(d.RuleField, "gives no occurrence")
		}
		created := occ[:min(d.Limit, len(occ))]
		for _, o := range created {
			n.Occurrences = append(n.Occurrences, o.Start)
		}
		text := d.Rule.String()
		n.RecurrenceRule = &text
		res.NextOccurrences = virtualOccurrences(occ[len(created):], appt.Duration())
		res.Truncated = len(occ) > len(created)
	}
	err = s.b.Atomically(ctx, func(ctx context.Context) error {
		list, err := s.b.Store.CreateAppointments(ctx, n)
		if err != nil {
			return err
		}
		res.Appointments, res.TotalCreated = list, len(list)
		if d.Rule != nil {
			res.SeriesID = *list[0].RecurringSeriesID
		}
		return s.announce(ctx, a, cr, res)
	})
	if feature.IsNotFound(err) {
		return nil, feature.NotFound("Care recipient")
	}
	if err != nil {
		return nil, writeError(err, "transportAssignedToId")
	}
	return res, nil
}

// announce announces new appointments (one event for a whole series) and
// tells the family about them, and their driver about the transport.
func (s *Service) announce(ctx context.Context, a feature.Actor, cr *care.CareRecipient, res *Created) error {
	first := res.Appointments[0]
	created := events.AppointmentCreatedData{Appointment: first}
	if res.SeriesID != "" {
		ids := make([]string, len(res.Appointments))
		for i, x := range res.Appointments {
			ids[i] = x.ID
		}
		created.SeriesID, created.TotalCreated, created.AppointmentIDs = res.SeriesID, res.TotalCreated, ids
	}
	if err := s.b.EmitAbout(ctx, a, cr, events.AppointmentCreated, created); err != nil {
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
	text := care.AppointmentCreatedText(a.User.FullName, cr, first.Title, what)
	err := s.b.NotifyFamily(ctx, cr.FamilyID, a.ID(), nil, care.NotificationDraft{
		Type: care.NotifyGeneral, Title: text.Title, Body: text.Body,
		Data: data, DedupeKey: "appointment-created:" + first.ID,
	})
	if err != nil {
		return err
	}
	if first.TransportAssignment == nil {
		return nil
	}
	if err := s.b.EmitAbout(ctx, a, cr, events.AppointmentTransport, transportAssigned(first)); err != nil {
		return err
	}
	return s.notifyTransport(ctx, a, cr, first, what)
}

// transportAssigned is the data of an appointment.transport_assigned event:
// the assignment as callers see it, with the appointment's series.
func transportAssigned(a care.Appointment) events.TransportData {
	return events.TransportData{TransportAssignment: a.TransportAssignment, RecurringSeriesID: a.RecurringSeriesID}
}

// notifyTransport tells the driver of an appointment about the assignment,
// unless they made it themselves.
func (s *Service) notifyTransport(ctx context.Context, actor feature.Actor, cr *care.CareRecipient, a care.Appointment, what string) error {
	tr := a.TransportAssignment
	if tr == nil || tr.AssignedToID == actor.ID() {
		return nil
	}
	data := map[string]any{"appointmentId": a.ID, "careRecipientId": cr.ID,
		"startTime": a.StartTime.Format(time.RFC3339), "transportAssignmentId": tr.ID}
	if a.RecurringSeriesID != nil {
		data["seriesId"] = *a.RecurringSeriesID
	}
	text := care.TransportAssignedText(actor.User.FullName, cr, what)
	return s.b.NotifyUsers(ctx, []string{tr.AssignedToID}, care.NotificationDraft{
		Type: care.NotifyGeneral, Title: text.Title, Body: text.Body,
		Data: data,
		DedupeKey: "transport-assigned:" + a.ID + ":" + tr.AssignedToID + ":" +
			strconv.FormatInt(tr.UpdatedAt.UnixMicro(), 10),
	})
}
