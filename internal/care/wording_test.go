package care

import (
	"strings"
	"testing"
	"time"
)

func TestUntilAndCountSayPluralsRight(t *testing.T) {
	t.Parallel()
	for minutes, want := range map[int]string{
		-5: "now", 0: "now", 1: "in 1 minute", 2: "in 2 minutes", 59: "in 59 minutes", 60: "in 1 hour",
		90: "in 90 minutes", 120: "in 2 hours", 1440: "tomorrow", 2880: "in 2 days", 1500: "in 25 hours",
	} {
		if got := Until(minutes); got != want {
			t.Errorf("Until(%d) = %q, want %q", minutes, got, want)
		}
	}
	if got := Count(1, "dose", "doses") + ", " + Count(0, "dose", "doses") + ", " + Count(3, "dose", "doses"); got != "1 dose, 0 doses, 3 doses" {
		t.Errorf("Count: %s", got)
	}
}

// TestNotificationTextForEveryKind words each kind of notification for a
// care recipient in Tokyo, read by someone anywhere: times are Tokyo's,
// counts agree with their nouns, and nothing reads "1 minutes".
func TestNotificationTextForEveryKind(t *testing.T) {
	t.Parallel()
	joe := "Joe"
	cr := &CareRecipient{ID: "cr", FamilyID: "f", FullName: "Joseph Lee", PreferredName: &joe, Timezone: "Asia/Tokyo"}
	med := &Medication{Name: "Metformin", Dosage: "500 mg"}
	at := time.Date(2025, 6, 2, 23, 0, 0, 0, time.UTC) // 08:00 on Tue 3 Jun in Tokyo
	end := at.Add(4 * time.Hour)
	notes, resolution, where := "Dinner at 6", "Back home, resting.", "Kitchen"
	alert := &EmergencyAlert{Title: "Fell in the kitchen", Type: AlertType("FALL"), Description: "Cannot get up.", Location: &where}
	resolved := &EmergencyAlert{Title: "Fell in the kitchen", ResolutionNotes: &resolution}
	critical := SeverityCritical
	entry := &TimelineEntry{Type: TimelineIncident, Title: "Dizzy spell", Severity: &critical}
	appt := &Appointment{Title: "Dentist", StartTime: at}
	shift := &Shift{StartTime: at, CareRecipient: &ShiftCareRecipient{FullName: "Joseph Lee", Timezone: "Asia/Tokyo"}}
	why := "Bo Lee left the family"

	tests := []struct {
		kind  string
		text  Text
		title string
		body  []string
	}{
		{"medication reminder, 1 minute", MedicationDueText(cr, med, at, 1), "Medication reminder: Metformin 500 mg",
			[]string{"Joe's dose is due in 1 minute, at 08:00 Asia/Tokyo."}},
		{"medication reminder, 15 minutes", MedicationDueText(cr, med, at, 15), "Medication reminder: Metformin 500 mg",
			[]string{"due in 15 minutes, at 08:00 Asia/Tokyo"}},
		{"medication reminder, due now", MedicationDueText(cr, med, at, 0), "Medication reminder: Metformin 500 mg",
			[]string{"Joe's dose is due now (08:00 Asia/Tokyo)."}},
		{"missed dose", MissedDoseText(cr, med, at), "Missed dose: Metformin 500 mg",
			[]string{"Joe's dose due at 08:00 Asia/Tokyo was not logged."}},
		{"dose given", DoseLoggedText("Ann Lee", cr, med, DoseGiven, at), "Medication given",
			[]string{"Ann Lee gave Joe Metformin 500 mg (dose of 08:00 Asia/Tokyo)."}},
		{"dose skipped", DoseLoggedText("Ann Lee", cr, med, DoseSkipped, at), "Medication skipped", []string{"skipped Joe's Metformin"}},
		{"dose missed", DoseLoggedText("Ann Lee", cr, med, DoseMissed, at), "Medication missed", []string{"as missed."}},
		{"dose pending", DoseLoggedText("Ann Lee", cr, med, DosePending, at), "Medication pending", []string{"as pending."}},
		{"refill, 1 dose", RefillText(cr, med, 1, 10), "Urgent refill: Metformin", []string{"1 dose of Metformin left for Joe; refill at 10."}},
		{"refill, 8 doses", RefillText(cr, med, 8, 10), "Refill needed: Metformin", []string{"8 doses of Metformin left"}},
		{"appointment reminder, 1 hour", AppointmentReminderText(cr, "Dentist", at, 60), "Appointment reminder: Dentist",
			[]string{"Joe has Dentist in 1 hour, at 08:00 Asia/Tokyo."}},
		{"appointment reminder, a day", AppointmentReminderText(cr, "Dentist", at, 1440), "Appointment reminder: Dentist", []string{"Dentist tomorrow, at 08:00"}},
		{"shift reminder, 1 minute", ShiftReminderText(cr, at, 1), "Shift reminder", []string{"Your shift with Joe starts in 1 minute, at 08:00 Asia/Tokyo."}},
		{"shift assigned", ShiftAssignedText("Ann Lee", cr, at, end), "New shift assigned",
			[]string{"Ann Lee assigned you a shift caring for Joe from Tue 3 Jun 2025 08:00 JST to Tue 3 Jun 2025 12:00 JST."}},
		{"shift handoff", ShiftHandoffText("Ann Lee", cr, end, &notes), "Shift handoff for Joe", []string{"your shift starts Tue 3 Jun 2025 12:00 JST. Handoff notes: Dinner at 6"}},
		{"shift handoff, no notes", ShiftHandoffText("Ann Lee", cr, end, nil), "Shift handoff for Joe", []string{"No handoff notes were left."}},
		{"shift cancelled", ShiftCancelledText("Ann Lee", cr, at), "Shift cancelled", []string{"Ann Lee cancelled your shift caring for Joe on Tue 3 Jun 2025 08:00 JST."}},
		{"shifts need cover, 1", ShiftsNeedCoverText(why, false, 1, shift), "Shifts need cover",
			[]string{"Bo Lee left the family, so 1 upcoming shift they had is cancelled; the first is Tue 3 Jun 2025 08:00 JST caring for Joseph Lee."}},
		{"shifts need cover, 2 and one ended", ShiftsNeedCoverText(why, true, 2, shift), "Shifts need cover",
			[]string{"the shift they were on has ended and 2 upcoming shifts they had are cancelled"}},
		{"appointments need a driver, 1", AppointmentsNeedDriverText(why, 1, cr, appt), "Appointments need a driver",
			[]string{"so 1 appointment they were driving to needs someone else; the first is Dentist on Tue 3 Jun 2025 08:00 JST for Joe."}},
		{"appointments need a driver, 3", AppointmentsNeedDriverText(why, 3, cr, appt), "Appointments need a driver", []string{"3 appointments they were driving to need someone else"}},
		{"new appointment", AppointmentCreatedText("Ann Lee", cr, "Dentist", AppointmentWhat(cr, appt, 1)), "New appointment: Dentist",
			[]string{"Ann Lee added Dentist on Tue 3 Jun 2025 08:00 JST for Joe."}},
		{"new series", AppointmentCreatedText("Ann Lee", cr, "Dentist", AppointmentWhat(cr, appt, 6)), "New appointment: Dentist", []string{"Dentist, 6 appointments from Tue 3 Jun"}},
		{"transport assigned", TransportAssignedText("Ann Lee", cr, AppointmentWhat(cr, appt, 1)), "Transport assigned", []string{"Ann Lee asked you to take Joe to Dentist on Tue 3 Jun 2025 08:00 JST."}},
		{"emergency", EmergencyAlertText("Ann Lee", cr, alert), "Fell in the kitchen", []string{"Emergency for Joe: Ann Lee raised a fall alert. Cannot get up. Location: Kitchen"}},
		{"emergency acknowledged", EmergencyAcknowledgedText("Bo Lee", cr, alert), "Emergency acknowledged for Joe", []string{`Bo Lee acknowledged the alert "Fell in the kitchen" and is on it.`}},
		{"emergency resolved", EmergencyResolvedText("Bo Lee", cr, resolved), "Emergency resolved for Joe", []string{`Bo Lee resolved the alert "Fell in the kitchen". Back home, resting.`}},
		{"urgent timeline entry", UrgentEntryText("Ann Lee", cr, entry), "Critical: Dizzy spell", []string{"Ann Lee recorded a critical incident for Joe: Dizzy spell"}},
		{"document expiring", DocumentExpiringText("Insurance card", at), "Document expiring soon", []string{`"Insurance card" expires on Mon 2 Jun 2025.`}},
		{"email quota", EmailQuotaText("smtp", 240, 300), "Email quota nearly spent", []string{"smtp has sent 240 of its 300 emails today"}},
	}
	for _, tc := range tests {
		if tc.text.Title != tc.title {
			t.Errorf("%s: title %q, want %q", tc.kind, tc.text.Title, tc.title)
		}
		for _, want := range tc.body {
			if !strings.Contains(tc.text.Body, want) {
				t.Errorf("%s: body %q does not contain %q", tc.kind, tc.text.Body, want)
			}
		}
		for _, wrong := range []string{" 1 minutes", " 1 hours", " 1 days", " 1 doses", " 1 appointments", " 1 upcoming shifts", ":00 UTC"} {
			if strings.Contains(tc.text.Title+" "+tc.text.Body, wrong) {
				t.Errorf("%s: %q reads %q", tc.kind, tc.text.Body, strings.TrimSpace(wrong))
			}
		}
	}
}
