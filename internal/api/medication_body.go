package api

import (
	"strconv"

	"github.com/carecircle/carecircle/internal/care"
)

// Bounds on medication fields.
const (
	maxMedicationName   = 200
	maxDosageLen        = 100
	maxInstructionsLen  = 2000
	maxMedicationSupply = 1_000_000
)

// medicationBody is the body of POST /care-recipients/{id}/medications.
// Without scheduledTimes a medication gets its frequency's default times
// (care.DefaultDoseTimes), shown in the answer.
type medicationBody struct {
	Name           string   `json:"name"`
	GenericName    *string  `json:"genericName"`
	Dosage         string   `json:"dosage"`
	Form           string   `json:"form"`
	Frequency      string   `json:"frequency"`
	TimesPerDay    *int     `json:"timesPerDay"`
	ScheduledTimes []string `json:"scheduledTimes"`
	Instructions   *string  `json:"instructions"`
	PrescribedBy   *string  `json:"prescribedBy"`
	Pharmacy       *string  `json:"pharmacy"`
	PharmacyPhone  *string  `json:"pharmacyPhone"`
	CurrentSupply  *int     `json:"currentSupply"`
	RefillAt       *int     `json:"refillAt"`
	LastRefillDate *string  `json:"lastRefillDate"`
	IsActive       *bool    `json:"isActive"`
	StartDate      *string  `json:"startDate"`
	EndDate        *string  `json:"endDate"`
	Notes          *string  `json:"notes"`
}

func (b *medicationBody) Validate(p Problems) {
	b.Name = p.line("name", b.Name, maxMedicationName)
	b.GenericName = p.optLine("genericName", b.GenericName, maxMedicationName)
	b.Dosage = p.line("dosage", b.Dosage, maxDosageLen)
	p.oneOf("form", b.Form, care.MedicationForms()...)
	p.oneOf("frequency", b.Frequency, care.MedicationFrequencies()...)
	medicationTimesPerDay(p, b.TimesPerDay)
	if len(b.ScheduledTimes) == 0 {
		// Optional, as existing clients omit it: the frequency's defaults.
		b.ScheduledTimes = care.DefaultDoseTimes(care.MedicationFrequency(b.Frequency))
	}
	b.ScheduledTimes = medicationScheduledTimes(p, b.ScheduledTimes)
	b.Instructions = p.optText("instructions", b.Instructions, maxInstructionsLen)
	b.PrescribedBy = p.optLine("prescribedBy", b.PrescribedBy, maxMedicationName)
	b.Pharmacy = p.optLine("pharmacy", b.Pharmacy, maxMedicationName)
	b.PharmacyPhone = p.phone("pharmacyPhone", b.PharmacyPhone)
	medicationCount(p, "currentSupply", b.CurrentSupply)
	medicationCount(p, "refillAt", b.RefillAt)
	b.LastRefillDate = medicationDate(p, "lastRefillDate", b.LastRefillDate)
	b.StartDate = medicationDate(p, "startDate", b.StartDate)
	b.EndDate = medicationDate(p, "endDate", b.EndDate)
	b.Notes = p.optText("notes", b.Notes, maxNotesLen)
	if len(p) == 0 {
		m := b.input()
		checkMedication(p, &m)
	}
}

// input is the validated body as a medication.
func (b *medicationBody) input() care.Medication {
	m := care.Medication{
		Name: b.Name, GenericName: b.GenericName, Dosage: b.Dosage,
		Form: care.MedicationForm(b.Form), Frequency: care.MedicationFrequency(b.Frequency),
		TimesPerDay: b.TimesPerDay, ScheduledTimes: b.ScheduledTimes, Instructions: b.Instructions,
		PrescribedBy: b.PrescribedBy, Pharmacy: b.Pharmacy, PharmacyPhone: b.PharmacyPhone,
		CurrentSupply: b.CurrentSupply, RefillAt: b.RefillAt, LastRefillDate: b.LastRefillDate,
		IsActive: b.IsActive == nil || *b.IsActive, StartDate: b.StartDate, EndDate: b.EndDate,
		Notes: b.Notes,
	}
	if m.ScheduledTimes == nil {
		m.ScheduledTimes = []string{}
	}
	if m.TimesPerDay == nil && len(m.ScheduledTimes) > 0 {
		n := len(m.ScheduledTimes)
		m.TimesPerDay = &n
	}
	return m
}

// checkMedication checks the rules that span fields, on a whole medication
// (a new one, or one with a PATCH applied).
func checkMedication(p Problems, m *care.Medication) {
	switch {
	case m.Frequency.Scheduled() && !m.Frequency.TakesAnyInstant() && len(m.ScheduledTimes) == 0:
		p.Add("scheduledTimes", "is required unless frequency is AS_NEEDED or OTHER")
	case !m.Frequency.Scheduled() && len(m.ScheduledTimes) > 0:
		p.Add("scheduledTimes", "must be empty when frequency is AS_NEEDED")
	}
	if m.StartDate != nil && m.EndDate != nil && *m.EndDate < *m.StartDate {
		p.Add("endDate", "must not be before startDate")
	}
}

// medicationScheduledTimes checks "HH:mm" dose times and returns them
// sorted, never nil.
func medicationScheduledTimes(p Problems, v []string) []string {
	times, problems := care.ParseScheduledTimes(v)
	for _, why := range problems {
		p.Add("scheduledTimes", why)
	}
	return care.FormatClockTimes(times)
}

// medicationTimesPerDay checks an optional number of doses a day.
func medicationTimesPerDay(p Problems, v *int) {
	if v != nil && (*v < 1 || *v > care.MaxDosesPerDay) {
		p.Add("timesPerDay", "must be between 1 and "+strconv.Itoa(care.MaxDosesPerDay))
	}
}

// medicationCount checks an optional count of units (supply, refill level).
func medicationCount(p Problems, field string, v *int) {
	if v != nil && (*v < 0 || *v > maxMedicationSupply) {
		p.Add(field, "must be between 0 and "+strconv.Itoa(maxMedicationSupply))
	}
}

// medicationDate checks an optional YYYY-MM-DD date; blank becomes nil.
func medicationDate(p Problems, field string, v *string) *string {
	t := p.optText(field, v, 10)
	if t != nil && !care.ValidDate(*t) {
		p.Add(field, "must be a date in the form YYYY-MM-DD")
	}
	return t
}

// medicationPatch is the body of PATCH .../medications/{id}: absent fields
// stay, null clears optional ones.
type medicationPatch struct {
	Name           Optional[string]   `json:"name"`
	GenericName    Optional[string]   `json:"genericName"`
	Dosage         Optional[string]   `json:"dosage"`
	Form           Optional[string]   `json:"form"`
	Frequency      Optional[string]   `json:"frequency"`
	TimesPerDay    Optional[int]      `json:"timesPerDay"`
	ScheduledTimes Optional[[]string] `json:"scheduledTimes"`
	Instructions   Optional[string]   `json:"instructions"`
	PrescribedBy   Optional[string]   `json:"prescribedBy"`
	Pharmacy       Optional[string]   `json:"pharmacy"`
	PharmacyPhone  Optional[string]   `json:"pharmacyPhone"`
	CurrentSupply  Optional[int]      `json:"currentSupply"`
	RefillAt       Optional[int]      `json:"refillAt"`
	LastRefillDate Optional[string]   `json:"lastRefillDate"`
	IsActive       Optional[bool]     `json:"isActive"`
	StartDate      Optional[string]   `json:"startDate"`
	EndDate        Optional[string]   `json:"endDate"`
	Notes          Optional[string]   `json:"notes"`
}

func (b *medicationPatch) Validate(p Problems) {
	p.patchRequired("name", &b.Name, func(v string) string { return p.line("name", v, maxMedicationName) })
	patchOptional(&b.GenericName, func(v *string) *string { return p.optLine("genericName", v, maxMedicationName) })
	p.patchRequired("dosage", &b.Dosage, func(v string) string { return p.line("dosage", v, maxDosageLen) })
	p.patchRequired("form", &b.Form, func(v string) string {
		p.oneOf("form", v, care.MedicationForms()...)
		return v
	})
	p.patchRequired("frequency", &b.Frequency, func(v string) string {
		p.oneOf("frequency", v, care.MedicationFrequencies()...)
		return v
	})
	medicationTimesPerDay(p, b.TimesPerDay.Ptr())
	if b.ScheduledTimes.Set {
		// null reads as "no times", as an empty list does.
		b.ScheduledTimes.Null = false
		b.ScheduledTimes.Value = medicationScheduledTimes(p, b.ScheduledTimes.Value)
	}
	patchOptional(&b.Instructions, func(v *string) *string { return p.optText("instructions", v, maxInstructionsLen) })
	patchOptional(&b.PrescribedBy, func(v *string) *string { return p.optLine("prescribedBy", v, maxMedicationName) })
	patchOptional(&b.Pharmacy, func(v *string) *string { return p.optLine("pharmacy", v, maxMedicationName) })
	patchOptional(&b.PharmacyPhone, func(v *string) *string { return p.phone("pharmacyPhone", v) })
	medicationCount(p, "currentSupply", b.CurrentSupply.Ptr())
	medicationCount(p, "refillAt", b.RefillAt.Ptr())
	patchOptional(&b.LastRefillDate, func(v *string) *string { return medicationDate(p, "lastRefillDate", v) })
	patchOptional(&b.StartDate, func(v *string) *string { return medicationDate(p, "startDate", v) })
	patchOptional(&b.EndDate, func(v *string) *string { return medicationDate(p, "endDate", v) })
	patchOptional(&b.Notes, func(v *string) *string { return p.optText("notes", v, maxNotesLen) })
	if b.IsActive.Set && b.IsActive.Null {
		p.Add("isActive", "must not be null")
	}
}

// apply writes the PATCH onto m and checks the result as a whole; the error
// is the 400 to answer when it is not acceptable. Unless given, timesPerDay
// follows a changed schedule, and a switch to AS_NEEDED drops the times.
func (b *medicationPatch) apply(m *care.Medication) error {
	assignRequired(&m.Name, b.Name)
	assign(&m.GenericName, b.GenericName)
	assignRequired(&m.Dosage, b.Dosage)
	if b.Form.Set && !b.Form.Null {
		m.Form = care.MedicationForm(b.Form.Value)
	}
	times := b.ScheduledTimes
	if b.Frequency.Set && !b.Frequency.Null {
		m.Frequency = care.MedicationFrequency(b.Frequency.Value)
		if !m.Frequency.Scheduled() && !times.Set {
			times = Optional[[]string]{Set: true, Value: []string{}}
		}
	}
	if times.Set {
		m.ScheduledTimes = times.Value
		if !b.TimesPerDay.Set {
			m.TimesPerDay = nil
			if n := len(m.ScheduledTimes); n > 0 {
				m.TimesPerDay = &n
			}
		}
	}
	assign(&m.TimesPerDay, b.TimesPerDay)
	assign(&m.Instructions, b.Instructions)
	assign(&m.PrescribedBy, b.PrescribedBy)
	assign(&m.Pharmacy, b.Pharmacy)
	assign(&m.PharmacyPhone, b.PharmacyPhone)
	assign(&m.CurrentSupply, b.CurrentSupply)
	assign(&m.RefillAt, b.RefillAt)
	assign(&m.LastRefillDate, b.LastRefillDate)
	assignRequired(&m.IsActive, b.IsActive)
	assign(&m.StartDate, b.StartDate)
	assign(&m.EndDate, b.EndDate)
	assign(&m.Notes, b.Notes)
	p := Problems{}
	checkMedication(p, m)
	return p.Err()
}
