package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/events"
	"github.com/carecircle/carecircle/internal/notify"
	"github.com/carecircle/carecircle/internal/store"
)

// outcome is what delivering one reminder amounts to, decided from the
// world as it is at delivery time.
type outcome struct {
	status string // store.LedgerSent or store.LedgerSuppressed
	reason string
	// notice is a sent reminder's notification and event, to the members
	// it concerns; addressed is it with their preferences applied.
	notice    *notify.Notice
	addressed notify.Addressed
	// missedDose, when set, records a MISSED log for this dose.
	missedDose *time.Time
}

// reminderEvents are the domain events of sent reminders, by kind.
var reminderEvents = map[string]string{
	KindMedication:  events.MedicationReminder,
	KindMissedDose:  events.MedicationMissed,
	KindRefill:      events.MedicationRefillNeeded,
	KindAppointment: events.AppointmentReminder,
	KindShift:       events.ShiftReminder,
}

func suppressed(reason string) outcome {
	return outcome{status: store.LedgerSuppressed, reason: reason}
}

// fingerprint identifies the outcome: what it writes and announces, to
// whom, and the ledger state it leaves, but not when.
func (o outcome) fingerprint() (string, error) {
	var notice string
	if o.notice != nil {
		var err error
		if notice, err = o.addressed.Fingerprint(); err != nil {
			return "", err
		}
	}
	var missed int64
	if o.missedDose != nil {
		missed = o.missedDose.Unix()
	}
	return fmt.Sprintf("%s|%s|%d|%s", o.status, o.reason, missed, notice), nil
}

// deliver delivers entries inside the transaction ctx carries: each entry
// still in state from moves to SENT (with its notifications) or SUPPRESSED. The ledger update and the
// notifications commit together, and notifications carry the ledger key as
// their dedupe key, so a reminder reaches each recipient once whatever
// crashes or retries happen.
func (e *Engine) deliver(ctx context.Context, entries []store.LedgerEntry, from string) (int, error) {
	outs, err := e.prepare(ctx, entries)
	if err != nil {
		return 0, err
	}
	return e.apply(ctx, entries, outs, from)
}

// prepare decides every entry's outcome, reading outside any write
// transaction. What the batch's entries share (care recipients, families,
// medications, dose logs, the members' preferences) is read up front in a
// few queries.
func (e *Engine) prepare(ctx context.Context, entries []store.LedgerEntry) ([]outcome, error) {
	p := &preparer{e: e, members: map[string][]care.Member{}, recipients: map[string]*care.CareRecipient{}}
	if err := p.prefetch(ctx, entries); err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	outs := make([]outcome, len(entries))
	for i, en := range entries {
		o, err := p.outcome(ctx, en)
		if err != nil {
			return nil, fmt.Errorf("deliver %s: %w", en.Key, err)
		}
		outs[i] = o
	}
	var notices []notify.Notice
	for _, o := range outs {
		if o.notice != nil {
			notices = append(notices, *o.notice)
		}
	}
	// The recipients are members, read with their preferences.
	prefs := map[string]json.RawMessage{}
	for _, ms := range p.members {
		for _, m := range ms {
			prefs[m.UserID] = m.Preferences
		}
	}
	addressed := notify.AddressWith(prefs, notices...)
	for i := range outs {
		if outs[i].notice != nil {
			outs[i].addressed, addressed = addressed[0], addressed[1:]
		}
	}
	return outs, nil
}

// notifier is the notification pipeline reminders go through.
func (e *Engine) notifier() *notify.Notifier {
	return &notify.Notifier{Store: e.store, Clock: e.clock}
}

// apply records the outcomes in the transaction ctx carries: the ledger
// moves of the entries still in state from, then the notifications and
// domain events of those sent, through the notification pipeline in one
// call. An entry someone else already moved writes nothing.
func (e *Engine) apply(ctx context.Context, entries []store.LedgerEntry, outs []outcome, from string) (int, error) {
	updates := make([]store.LedgerUpdate, len(entries))
	for i, en := range entries {
		o := outs[i]
		updates[i] = store.LedgerUpdate{Key: en.Key, Status: o.status, Recipients: o.addressed.Recipients()}
		if o.reason != "" {
			updates[i].Reason = &outs[i].reason
		}
	}
	changed, err := e.store.MarkLedgerMany(ctx, updates, from)
	if err != nil {
		return 0, err
	}
	sent := 0
	var notices []notify.Addressed
	for i, en := range entries {
		if !changed[en.Key] {
			continue // delivered or skipped by someone else already
		}
		o := outs[i]
		if o.missedDose != nil {
			if _, err := e.store.RecordMissedDose(ctx, en.EntityID, *o.missedDose); err != nil {
				return 0, err
			}
		}
		if o.status == store.LedgerSent {
			sent++
			if o.notice != nil {
				notices = append(notices, o.addressed)
			}
		}
	}
	if _, err := e.notifier().Write(ctx, notices...); err != nil {
		return 0, err
	}
	return sent, nil
}

// sentTo is the outcome of a reminder sent to members (those keep passes,
// or all): its notification, keyed by the ledger entry so each member gets
// it once, announced by the kind's domain event with data.
func sentTo(en store.LedgerEntry, familyID string, members []care.Member, keep func(care.Member) bool, typ care.NotificationType, text care.Text, data map[string]any) outcome {
	var to []string
	for _, m := range members {
		if m.IsActive && (keep == nil || keep(m)) {
			to = append(to, m.UserID)
		}
	}
	return outcome{status: store.LedgerSent, notice: &notify.Notice{To: to, Type: typ, Text: text, Data: data,
		DedupeKey: en.Key, FamilyID: familyID, CareRecipientID: en.CareRecipientID, CorrelationID: en.Key,
		Event: reminderEvents[en.Kind], EventData: data}}
}

// preparer caches what several reminders of one batch share.
type preparer struct {
	e          *Engine
	members    map[string][]care.Member
	recipients map[string]*care.CareRecipient
	// now is the instant the reminder being decided is decided as of: the
	// clock's time, or a staged reminder's fire time ahead of it.
	now time.Time
	// meds and logs hold what prefetch read for medication reminders;
	// fetched tells which medication ids it looked up (a missing one is
	// deleted).
	meds    map[string]*care.Medication
	logs    map[store.DoseRef]*care.MedicationLog
	fetched map[string]bool
	// zones holds the time zones loaded for the batch: a batch's
	// reminders share a few, and loading one reads its file.
	zones map[string]*time.Location
}

func (p *preparer) location(name string) (*time.Location, error) {
	if loc, ok := p.zones[name]; ok {
		return loc, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	if p.zones == nil {
		p.zones = map[string]*time.Location{}
	}
	p.zones[name] = loc
	return loc, nil
}

// prefetch reads, in a few queries, what the entries' outcomes depend on:
// their care recipients and those families' members, and for medication
// reminders the medications and the logs of their doses.
func (p *preparer) prefetch(ctx context.Context, entries []store.LedgerEntry) error {
	if len(entries) < 2 {
		return nil // one reminder reads as it goes
	}
	var crIDs, medIDs []string
	var doses []store.DoseRef
	for _, en := range entries {
		crIDs = append(crIDs, en.CareRecipientID)
		switch en.Kind {
		case KindMedication, KindMissedDose, KindRefill:
			medIDs = append(medIDs, en.EntityID)
			doses = append(doses, store.DoseRef{MedicationID: en.EntityID, At: en.OccurrenceAt.Unix()})
		}
	}
	crs, err := p.e.store.CareRecipientsByID(ctx, crIDs)
	if err != nil {
		return err
	}
	var families []string
	for _, id := range crIDs {
		p.recipients[id] = crs[id] // nil: removed
		if cr := crs[id]; cr != nil {
			families = append(families, cr.FamilyID)
		}
	}
	members, err := p.e.store.MembersWithPreferencesOf(ctx, families)
	if err != nil {
		return err
	}
	for _, f := range families {
		p.members[f] = members[f]
	}
	if len(medIDs) == 0 {
		return nil
	}
	if p.meds, err = p.e.store.MedicationsByID(ctx, medIDs); err != nil {
		return err
	}
	if p.logs, err = p.e.store.MedicationLogsAt(ctx, doses); err != nil {
		return err
	}
	p.fetched = make(map[string]bool, len(medIDs))
	for _, id := range medIDs {
		p.fetched[id] = true
	}
	return nil
}

func (p *preparer) medicationByID(ctx context.Context, id string) (*care.Medication, error) {
	if p.fetched[id] {
		if m := p.meds[id]; m != nil {
			return m, nil
		}
		return nil, store.ErrNotFound
	}
	return p.e.store.Medication(ctx, id)
}

func (p *preparer) doseLog(ctx context.Context, medicationID string, at time.Time) (*care.MedicationLog, error) {
	if p.fetched[medicationID] {
		if l := p.logs[store.DoseRef{MedicationID: medicationID, At: at.Unix()}]; l != nil {
			return l, nil
		}
		return nil, store.ErrNotFound
	}
	return p.e.store.MedicationLogAt(ctx, medicationID, at)
}

func (p *preparer) careRecipient(ctx context.Context, id string) (*care.CareRecipient, error) {
	if cr, ok := p.recipients[id]; ok {
		return cr, nil
	}
	cr, err := p.e.store.CareRecipient(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		cr, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.recipients[id] = cr
	return cr, nil
}

func (p *preparer) familyMembers(ctx context.Context, familyID string) ([]care.Member, error) {
	if ms, ok := p.members[familyID]; ok {
		return ms, nil
	}
	ms, err := p.e.store.MembersWithPreferences(ctx, familyID)
	if err != nil {
		return nil, err
	}
	p.members[familyID] = ms
	return ms, nil
}

func (p *preparer) outcome(ctx context.Context, en store.LedgerEntry) (outcome, error) {
	p.now = p.e.clock.Now()
	ahead := en.FireAt.After(p.now)
	if ahead {
		p.now = en.FireAt
	}
	o, err := p.decide(ctx, en)
	if ahead && o.notice != nil {
		o.notice.At = en.FireAt
	}
	return o, err
}

func (p *preparer) decide(ctx context.Context, en store.LedgerEntry) (outcome, error) {
	cr, err := p.careRecipient(ctx, en.CareRecipientID)
	if err != nil || cr == nil {
		return suppressed("care recipient removed"), err
	}
	loc, err := p.location(cr.Timezone)
	if err != nil {
		return suppressed("unknown time zone"), nil
	}
	switch en.Kind {
	case KindMedication, KindMissedDose, KindRefill:
		return p.medication(ctx, en, cr, loc)
	case KindAppointment:
		return p.appointment(ctx, en, cr)
	case KindShift:
		return p.shift(ctx, en, cr)
	default:
		return suppressed("unknown reminder kind " + en.Kind), nil
	}
}

func (p *preparer) medication(ctx context.Context, en store.LedgerEntry, cr *care.CareRecipient, loc *time.Location) (outcome, error) {
	med, err := p.medicationByID(ctx, en.EntityID)
	if errors.Is(err, store.ErrNotFound) {
		return suppressed("medication deleted"), nil
	}
	if err != nil {
		return outcome{}, err
	}
	if !med.IsActive {
		return suppressed("medication deactivated"), nil
	}
	local := en.OccurrenceAt.In(loc)
	if en.Kind == KindRefill {
		return p.refill(ctx, en, cr, med, local)
	}
	if !scheduledAt(med.ScheduledTimes, local) {
		return suppressed("dose time no longer scheduled"), nil
	}
	logged, err := p.doseLog(ctx, med.ID, en.OccurrenceAt)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return outcome{}, err
	}
	data := map[string]any{
		"medicationId": med.ID, "medicationName": med.Name, "careRecipientId": cr.ID, "scheduledTime": en.OccurrenceAt.UTC().Format(time.RFC3339),
		"minutesBefore": max(en.OffsetMinutes, 0), "timezone": cr.Timezone,
	}
	members, err := p.familyMembers(ctx, cr.FamilyID)
	if err != nil {
		return outcome{}, err
	}
	if en.Kind == KindMissedDose {
		if logged != nil {
			return suppressed("dose logged"), nil
		}
		o := sentTo(en, cr.FamilyID, members, adminOrCaregiver, care.NotifyMedicationMissed, care.MissedDoseText(cr, med, en.OccurrenceAt), data)
		o.missedDose = &en.OccurrenceAt
		return o, nil
	}
	if logged != nil && (logged.Status == care.DoseGiven || logged.Status == care.DoseSkipped) {
		return suppressed("dose already logged"), nil
	}
	return sentTo(en, cr.FamilyID, members, nil, care.NotifyMedicationReminder,
		care.MedicationDueText(cr, med, en.OccurrenceAt, p.minutesUntil(en.OccurrenceAt)), data), nil
}

func (p *preparer) refill(ctx context.Context, en store.LedgerEntry, cr *care.CareRecipient, med *care.Medication, local time.Time) (outcome, error) {
	if med.CurrentSupply == nil || med.RefillAt == nil || *med.CurrentSupply > *med.RefillAt {
		return suppressed("supply sufficient"), nil
	}
	members, err := p.familyMembers(ctx, cr.FamilyID)
	if err != nil {
		return outcome{}, err
	}
	urgent := *med.CurrentSupply <= 5
	data := map[string]any{"medicationId": med.ID, "careRecipientId": cr.ID, "currentSupply": *med.CurrentSupply,
		"refillAt": *med.RefillAt, "urgent": urgent, "date": local.Format(time.DateOnly)}
	return sentTo(en, cr.FamilyID, members, adminOrCaregiver, care.NotifyRefillAlert,
		care.RefillText(cr, med, *med.CurrentSupply, *med.RefillAt), data), nil
}

func (p *preparer) appointment(ctx context.Context, en store.LedgerEntry, cr *care.CareRecipient) (outcome, error) {
	a, err := p.e.store.Appointment(ctx, en.EntityID)
	if errors.Is(err, store.ErrNotFound) {
		return suppressed("appointment deleted"), nil
	}
	if err != nil {
		return outcome{}, err
	}
	switch {
	case a.Status != care.AppointmentScheduled && a.Status != care.AppointmentConfirmed:
		return suppressed("appointment " + string(a.Status)), nil
	case !a.StartTime.Equal(en.OccurrenceAt):
		return suppressed("appointment moved"), nil
	case !containsInt(a.ReminderMinutes, en.OffsetMinutes):
		return suppressed("reminder time removed"), nil
	}
	members, err := p.familyMembers(ctx, cr.FamilyID)
	if err != nil {
		return outcome{}, err
	}
	data := map[string]any{"appointmentId": a.ID, "careRecipientId": cr.ID, "scheduledTime": a.StartTime.UTC().Format(time.RFC3339),
		"minutesBefore": en.OffsetMinutes, "timezone": cr.Timezone}
	return sentTo(en, cr.FamilyID, members, nil, care.NotifyAppointmentReminder,
		care.AppointmentReminderText(cr, a.Title, a.StartTime, p.minutesUntil(a.StartTime)), data), nil
}

func (p *preparer) shift(ctx context.Context, en store.LedgerEntry, cr *care.CareRecipient) (outcome, error) {
	sh, err := p.e.store.Shift(ctx, en.EntityID)
	if errors.Is(err, store.ErrNotFound) {
		return suppressed("shift deleted"), nil
	}
	if err != nil {
		return outcome{}, err
	}
	switch {
	case sh.Status != care.ShiftScheduled && sh.Status != care.ShiftConfirmed:
		return suppressed("shift " + string(sh.Status)), nil
	case !sh.StartTime.Equal(en.OccurrenceAt):
		return suppressed("shift moved"), nil
	}
	members, err := p.familyMembers(ctx, cr.FamilyID)
	if err != nil {
		return outcome{}, err
	}
	data := map[string]any{"shiftId": sh.ID, "caregiverId": sh.CaregiverID, "careRecipientId": cr.ID, "scheduledTime": sh.StartTime.UTC().Format(time.RFC3339),
		"minutesBefore": en.OffsetMinutes, "timezone": cr.Timezone}
	return sentTo(en, cr.FamilyID, members, func(m care.Member) bool {
		return m.UserID == sh.CaregiverID
	}, care.NotifyShiftReminder, care.ShiftReminderText(cr, sh.StartTime, p.minutesUntil(sh.StartTime)), data), nil
}

// adminOrCaregiver keeps the members who look after doses and supplies.
func adminOrCaregiver(m care.Member) bool {
	return m.Role == care.RoleAdmin || m.Role == care.RoleCaregiver
}

func scheduledAt(times []string, local time.Time) bool {
	hm := local.Format("15:04")
	for _, t := range times {
		c, err := care.ParseClockTime(t)
		if err != nil {
			continue
		}
		if c.String() == hm {
			return true
		}
		// A time in a DST gap fires at the end of the gap.
		if y, m, d := local.Date(); c.On(y, m, d, local.Location()).Equal(local) {
			return true
		}
	}
	return false
}

// minutesUntil is how many whole minutes (rounded up) remain until t; a
// reminder sent late after downtime says what is true when it arrives.
func (p *preparer) minutesUntil(t time.Time) int {
	d := t.Sub(p.now)
	if d <= 0 {
		return 0
	}
	return int((d + time.Minute - 1) / time.Minute)
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
