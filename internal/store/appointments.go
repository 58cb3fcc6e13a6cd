package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// Errors of appointment writes.
var (
	// ErrAppointmentDoctor refuses a doctor who is not one of the care
	// recipient's doctors.
	ErrAppointmentDoctor = errors.New("the doctor is not one of this care recipient's doctors")
	// ErrTransportAssignee refuses a driver who is not an active member (with
	// an active account) of the care recipient's family.
	ErrTransportAssignee = errors.New("the assignee is not an active member of this family")
	// ErrTransportNotAssignee refuses a confirmation by anyone but the
	// assigned member.
	ErrTransportNotAssignee = errors.New("only the assigned member can confirm the transport")
	// ErrNoTransport: the appointment has no transport assignment. It is
	// also an ErrNotFound.
	ErrNoTransport = fmt.Errorf("%w: the appointment has no transport assignment", ErrNotFound)
)

// appointmentColumns are an appointment with its doctor and transport
// assignment, read from appointmentFrom.
const appointmentColumns = `a.id, a.care_recipient_id, a.doctor_id, a.title, a.type, a.start_time,
	a.end_time, a.location, a.address, a.notes, a.is_recurring, a.recurrence_rule,
	a.recurring_series_id, a.recurring_index, a.reminder_minutes, a.status, a.created_by_id,
	a.created_at, a.updated_at, d.name, d.specialty, t.id, t.assigned_to_id, t.notes, t.confirmed,
	t.created_at, t.updated_at, u.full_name, u.avatar_url`

const appointmentFrom = ` FROM appointments a LEFT JOIN doctors d ON d.id = a.doctor_id
	LEFT JOIN transport_assignments t ON t.appointment_id = a.id
	LEFT JOIN users u ON u.id = t.assigned_to_id`

const appointmentsByStart = ` ORDER BY a.start_time, a.id`

func scanAppointment(row interface{ Scan(...any) error }) (*care.Appointment, error) {
	var a care.Appointment
	var doctorName, specialty, tID, tAssignee, tNotes, uName, uAvatar *string
	var tConfirmed *bool
	var tCreated, tUpdated *time.Time
	err := row.Scan(&a.ID, &a.CareRecipientID, &a.DoctorID, &a.Title, &a.Type, timeCol{&a.StartTime},
		timeCol{&a.EndTime}, &a.Location, &a.Address, &a.Notes, &a.IsRecurring, &a.RecurrenceRule,
		&a.RecurringSeriesID, &a.RecurringIndex, jsonCol{&a.ReminderMinutes}, &a.Status, &a.CreatedByID,
		timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}, &doctorName, &specialty, &tID, &tAssignee, &tNotes,
		&tConfirmed, nullTimeCol{&tCreated}, nullTimeCol{&tUpdated}, &uName, &uAvatar)
	if err != nil {
		return nil, mapErr(err)
	}
	if a.ReminderMinutes == nil {
		a.ReminderMinutes = []int{}
	}
	if a.DoctorID != nil && doctorName != nil {
		a.Doctor = &care.AppointmentDoctor{ID: *a.DoctorID, Name: *doctorName, Specialty: specialty}
	}
	if tID != nil && tAssignee != nil {
		tr := &care.TransportAssignment{ID: *tID, AppointmentID: a.ID, AssignedToID: *tAssignee,
			Notes: tNotes, Confirmed: tConfirmed != nil && *tConfirmed}
		if tCreated != nil && tUpdated != nil {
			tr.CreatedAt, tr.UpdatedAt = *tCreated, *tUpdated
		}
		if uName != nil {
			tr.AssignedTo = &care.UserRef{ID: *tAssignee, FullName: *uName, AvatarURL: uAvatar}
		}
		a.TransportAssignment = tr
	}
	return &a, nil
}

// appointmentsWhere lists appointments matching a condition on appointments
// a (and its joins), earliest first.
func appointmentsWhere(ctx context.Context, q querier, where string, args ...any) ([]care.Appointment, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+appointmentColumns+appointmentFrom+` WHERE `+where+appointmentsByStart, args...)
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	out := []care.Appointment{}
	for rows.Next() {
		a, err := scanAppointment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, mapErr(rows.Err())
}

func appointmentByID(ctx context.Context, q querier, id string) (*care.Appointment, error) {
	return scanAppointment(q.QueryRowContext(ctx, `SELECT `+appointmentColumns+appointmentFrom+` WHERE a.id = $1`, id))
}

// NewAppointments is one appointment, or the occurrences of a recurring
// series, to create.
type NewAppointments struct {
	// Appointment holds the fields every created appointment shares; its
	// StartTime and EndTime are those of a single appointment.
	Appointment care.Appointment
	// Occurrences, when not nil, are the start times of a series'
	// occurrences in order: each becomes an appointment lasting as long as
	// Appointment does, with its position as recurringIndex. They share a
	// new series id and RecurrenceRule.
	Occurrences    []time.Time
	RecurrenceRule *string
	// TransportToID, when set, assigns the transport of every created
	// appointment to that member.
	TransportToID string
	CreatedByID   string
}

// appointmentInsertChunk is how many appointments one INSERT writes.
const appointmentInsertChunk = 50

// CreateAppointments creates one appointment or a whole series in one
// transaction, all SCHEDULED, and returns them earliest first. The doctor
// must be one of the care recipient's (ErrAppointmentDoctor), the transport
// assignee an active member of their family (ErrTransportAssignee);
// ErrNotFound when the care recipient is gone.
func (s *Store) CreateAppointments(ctx context.Context, n NewAppointments) ([]care.Appointment, error) {
	tmpl := n.Appointment
	var out []care.Appointment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var familyID string
		if err := tx.QueryRowContext(ctx, `SELECT family_id FROM care_recipients WHERE id = $1`,
			tmpl.CareRecipientID).Scan(&familyID); err != nil {
			return mapErr(err)
		}
		if err := checkAppointmentDoctor(ctx, tx, tmpl.CareRecipientID, tmpl.DoctorID); err != nil {
			return err
		}
		if n.TransportToID != "" {
			if err := checkTransportAssignee(ctx, tx, familyID, n.TransportToID); err != nil {
				return err
			}
		}
		now := ts(s.now())
		var seriesID *string
		starts := []time.Time{tmpl.StartTime}
		if n.Occurrences != nil {
			id := newID()
			seriesID, starts = &id, n.Occurrences
		}
		rows := make([][]any, 0, len(starts))
		ids := make([]string, 0, len(starts))
		for i, start := range starts {
			var index *int
			if seriesID != nil {
				index = &i
			}
			id := newID()
			ids = append(ids, id)
			rows = append(rows, []any{id, tmpl.CareRecipientID, tmpl.DoctorID, tmpl.Title, tmpl.Type,
				ts(start), ts(start.Add(tmpl.Duration())), tmpl.Location, tmpl.Address, tmpl.Notes,
				seriesID != nil, n.RecurrenceRule, seriesID, index, jsonArg(tmpl.ReminderMinutes),
				care.AppointmentScheduled, appointmentCreatorArg(n.CreatedByID), now, now})
		}
		if err := insertRows(ctx, tx, `INSERT INTO appointments (id, care_recipient_id, doctor_id,
			title, type, start_time, end_time, location, address, notes, is_recurring,
			recurrence_rule, recurring_series_id, recurring_index, reminder_minutes, status,
			created_by_id, created_at, updated_at) VALUES `, rows); err != nil {
			return err
		}
		if n.TransportToID != "" {
			trs := make([][]any, 0, len(ids))
			for _, id := range ids {
				trs = append(trs, []any{newID(), id, n.TransportToID, nil, false, now, now})
			}
			if err := insertRows(ctx, tx, `INSERT INTO transport_assignments (id, appointment_id,
				assigned_to_id, notes, confirmed, created_at, updated_at) VALUES `, trs); err != nil {
				return err
			}
		}
		var err error
		if seriesID != nil {
			out, err = appointmentsWhere(ctx, tx, `a.recurring_series_id = $1`, *seriesID)
		} else {
			out, err = appointmentsWhere(ctx, tx, `a.id = $1`, ids[0])
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: create appointments: %w", err)
	}
	return out, nil
}

// insertRows runs an INSERT of many rows (all of the same width) in chunks
// of appointmentInsertChunk; head ends with "VALUES ".
func insertRows(ctx context.Context, tx *sql.Tx, head string, rows [][]any) error {
	for len(rows) > 0 {
		chunk := rows[:min(len(rows), appointmentInsertChunk)]
		rows = rows[len(chunk):]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(chunk)*len(chunk[0]))
		for i, row := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, v := range row {
				if j > 0 {
					b.WriteString(", ")
				}
				args = append(args, v)
				b.WriteString("$" + strconv.Itoa(len(args)))
			}
			b.WriteByte(')')
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

// checkAppointmentDoctor checks that doctorID (when set) is one of the care
// recipient's doctors.
func checkAppointmentDoctor(ctx context.Context, q querier, careRecipientID string, doctorID *string) error {
	if doctorID == nil {
		return nil
	}
	var owner string
	err := q.QueryRowContext(ctx, `SELECT care_recipient_id FROM doctors WHERE id = $1`, *doctorID).Scan(&owner)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && owner != careRecipientID) {
		return ErrAppointmentDoctor
	}
	return mapErr(err)
}

// Appointment loads an appointment by id, with its doctor and transport.
func (s *Store) Appointment(ctx context.Context, id string) (*care.Appointment, error) {
	a, err := appointmentByID(ctx, s.r, id)
	if err != nil {
		return nil, fmt.Errorf("store: appointment %s: %w", id, err)
	}
	return a, nil
}

// AppointmentFilter selects a care recipient's appointments; unset fields
// do not filter.
type AppointmentFilter struct {
	// StartFrom and StartBefore bound the start time: [StartFrom, StartBefore).
	StartFrom, StartBefore *time.Time
	// EndAfter keeps appointments ending after it.
	EndAfter *time.Time
	// Statuses keeps appointments in any of these.
	Statuses []care.AppointmentStatus
}

// Appointments lists a care recipient's appointments matching f, earliest first.
func (s *Store) Appointments(ctx context.Context, careRecipientID string, f AppointmentFilter) ([]care.Appointment, error) {
	where := []string{`a.care_recipient_id = $1`}
	args := []any{careRecipientID}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.StartFrom != nil {
		where = append(where, `a.start_time >= `+arg(ts(*f.StartFrom)))
	}
	if f.StartBefore != nil {
		where = append(where, `a.start_time < `+arg(ts(*f.StartBefore)))
	}
	if f.EndAfter != nil {
		where = append(where, `a.end_time > `+arg(ts(*f.EndAfter)))
	}
	if len(f.Statuses) > 0 {
		in := make([]string, 0, len(f.Statuses))
		for _, st := range f.Statuses {
			in = append(in, arg(st))
		}
		where = append(where, `a.status IN (`+strings.Join(in, ", ")+`)`)
	}
	out, err := appointmentsWhere(ctx, s.r, strings.Join(where, " AND "), args...)
	if err != nil {
		return nil, fmt.Errorf("store: appointments: %w", err)
	}
	return out, nil
}

// RecurringAppointments lists every stored occurrence of the care
// recipient's recurring series, earliest first.
func (s *Store) RecurringAppointments(ctx context.Context, careRecipientID string) ([]care.Appointment, error) {
	out, err := appointmentsWhere(ctx, s.r, `a.care_recipient_id = $1 AND a.recurring_series_id IS NOT NULL`, careRecipientID)
	if err != nil {
		return nil, fmt.Errorf("store: recurring appointments: %w", err)
	}
	return out, nil
}

// SeriesAppointments lists the stored occurrences of a series, earliest
// first; ErrNotFound when it has none.
func (s *Store) SeriesAppointments(ctx context.Context, seriesID string) ([]care.Appointment, error) {
	out, err := appointmentsWhere(ctx, s.r, `a.recurring_series_id = $1`, seriesID)
	if err == nil && len(out) == 0 {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: series %s: %w", seriesID, err)
	}
	return out, nil
}

// writeAppointment stores the editable fields of a (loaded in tx and then
// edited), checking a changed doctor.
func (s *Store) writeAppointment(ctx context.Context, tx *sql.Tx, before string, a *care.Appointment) error {
	if a.DoctorID != nil && *a.DoctorID != before {
		if err := checkAppointmentDoctor(ctx, tx, a.CareRecipientID, a.DoctorID); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE appointments SET doctor_id = $2, title = $3, type = $4,
		start_time = $5, end_time = $6, location = $7, address = $8, notes = $9,
		recurrence_rule = $10, reminder_minutes = $11, status = $12, updated_at = $13 WHERE id = $1`,
		a.ID, a.DoctorID, a.Title, a.Type, ts(a.StartTime), ts(a.EndTime), a.Location, a.Address,
		a.Notes, a.RecurrenceRule, jsonArg(a.ReminderMinutes), a.Status, ts(s.now()))
	return mapErr(err)
}

// appointmentCreatorArg is NULL for an empty id.
func appointmentCreatorArg(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

func derefOr(p *string, def string) string {
	if p == nil {
		return def
	}
	return *p
}

// UpdateAppointment loads an appointment, lets edit change it and writes
// the result in one transaction, so concurrent edits apply one after the
// other. A changed doctor must be one of the care recipient's
// (ErrAppointmentDoctor). An error from edit aborts the update and is
// returned as is.
func (s *Store) UpdateAppointment(ctx context.Context, id string, edit func(*care.Appointment) error) (*care.Appointment, error) {
	var out *care.Appointment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var locked string
		if err := tx.QueryRowContext(ctx, s.forUpdate(`SELECT id FROM appointments WHERE id = $1`),
			id).Scan(&locked); err != nil {
			return mapErr(err)
		}
		a, err := appointmentByID(ctx, tx, id)
		if err != nil {
			return err
		}
		before := derefOr(a.DoctorID, "")
		if err := edit(a); err != nil {
			return err
		}
		if err := s.writeAppointment(ctx, tx, before, a); err != nil {
			return err
		}
		out, err = appointmentByID(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update appointment: %w", err)
	}
	return out, nil
}

// UpdateSeries lets edit change every open (SCHEDULED or CONFIRMED)
// occurrence of a series starting at or after from, and writes them all in
// one transaction. It returns the changed occurrences, earliest first.
func (s *Store) UpdateSeries(ctx context.Context, seriesID string, from time.Time, edit func(*care.Appointment) error) ([]care.Appointment, error) {
	var out []care.Appointment
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		args := []any{seriesID, ts(from), care.AppointmentScheduled, care.AppointmentConfirmed}
		// Lock the occurrences first, so concurrent series edits apply one
		// after the other.
		rows, err := tx.QueryContext(ctx, s.forUpdate(`SELECT id FROM appointments
			WHERE recurring_series_id = $1 AND start_time >= $2 AND status IN ($3, $4)`), args...)
		if err != nil {
			return mapErr(err)
		}
		var locked string
		for rows.Next() {
			if err := rows.Scan(&locked); err != nil {
				rows.Close()
				return mapErr(err)
			}
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return mapErr(err)
		}
		list, err := appointmentsWhere(ctx, tx, `a.recurring_series_id = $1 AND a.start_time >= $2
			AND a.status IN ($3, $4)`, args...)
		if err != nil {
			return err
		}
		for i := range list {
			a := &list[i]
			before := derefOr(a.DoctorID, "")
			if err := edit(a); err != nil {
				return err
			}
			if err := s.writeAppointment(ctx, tx, before, a); err != nil {
				return err
			}
		}
		ids := make([]any, 0, len(list))
		marks := make([]string, 0, len(list))
		for _, a := range list {
			ids = append(ids, a.ID)
			marks = append(marks, "$"+strconv.Itoa(len(ids)))
		}
		if len(ids) == 0 {
			out = []care.Appointment{}
			return nil
		}
		out, err = appointmentsWhere(ctx, tx, `a.id IN (`+strings.Join(marks, ", ")+`)`, ids...)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: update series: %w", err)
	}
	return out, nil
}

// CancelSeries cancels every open occurrence of a series starting at or
// after from, and returns how many it cancelled.
func (s *Store) CancelSeries(ctx context.Context, seriesID string, from time.Time) (int, error) {
	res, err := s.wq(ctx).ExecContext(ctx, `UPDATE appointments SET status = $3, updated_at = $4
		WHERE recurring_series_id = $1 AND start_time >= $2 AND status IN ($5, $6)`,
		seriesID, ts(from), care.AppointmentCancelled, ts(s.now()), care.AppointmentScheduled,
		care.AppointmentConfirmed)
	if err != nil {
		return 0, fmt.Errorf("store: cancel series: %w", mapErr(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: cancel series: %w", err)
	}
	return int(n), nil
}

// DeleteAppointment deletes one appointment (of a series, only that
// occurrence) with its transport assignment.
func (s *Store) DeleteAppointment(ctx context.Context, id string) error {
	return s.deleteByID(ctx, "appointments", id)
}

// AppointmentsStartingBetween lists, for the reminder planner, every
// scheduled or confirmed appointment starting in [from, to), earliest
// first, with what a reminder needs to say about it.
func (s *Store) AppointmentsStartingBetween(ctx context.Context, from, to time.Time) ([]care.AppointmentReminderSource, error) {
	rows, err := s.rq(ctx).QueryContext(ctx, `SELECT a.id, a.care_recipient_id, cr.family_id, a.title,
		cr.timezone, a.start_time, a.reminder_minutes, a.updated_at
		FROM appointments a JOIN care_recipients cr ON cr.id = a.care_recipient_id
		WHERE a.start_time >= $1 AND a.start_time < $2 AND a.status IN ($3, $4)
		ORDER BY a.start_time, a.id`,
		ts(from), ts(to), care.AppointmentScheduled, care.AppointmentConfirmed)
	if err != nil {
		return nil, fmt.Errorf("store: appointments starting: %w", mapErr(err))
	}
	defer rows.Close()
	out := []care.AppointmentReminderSource{}
	for rows.Next() {
		var r care.AppointmentReminderSource
		if err := rows.Scan(&r.AppointmentID, &r.CareRecipientID, &r.FamilyID, &r.Title, &r.Timezone,
			timeCol{&r.StartTime}, jsonCol{&r.ReminderMinutes}, timeCol{&r.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("store: appointments starting: %w", mapErr(err))
		}
		if r.ReminderMinutes == nil {
			r.ReminderMinutes = []int{}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: appointments starting: %w", mapErr(err))
	}
	return out, nil
}
