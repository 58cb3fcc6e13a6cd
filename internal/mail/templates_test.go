package mail

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// seedTemplates are the emails of the seed, each of which must exist.
var seedTemplates = []string{
	"appointment-reminder", "data-export", "email-verification", "emergency-alert",
	"family-invitation", "medication-reminder", "password-reset", "password-reset-by-admin",
	"refill-alert", "shift-reminder", "welcome",
}

// sampleData gives every template realistic data, in a New York zone.
func sampleData(t *testing.T) map[string]any {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 9, 8, 0, 0, 0, ny)
	return map[string]any{
		"welcome":            WelcomeData{Name: "Ann Lee", DashboardURL: "https://care.example/dashboard"},
		"email-verification": VerificationData{Name: "Ann Lee", Code: "042917", VerifyURL: "https://care.example/verify-email?email=ann%40example.com", ExpiresIn: 10 * time.Minute},
		"password-reset":     PasswordResetData{Name: "Ann Lee", ResetURL: "https://care.example/reset-password?token=tok123", ExpiresIn: time.Hour},
		"password-reset-by-admin": PasswordResetByAdminData{Name: "Ann Lee", AdminName: "Sam Admin",
			ResetURL: "https://care.example/reset-password?token=tok456", ExpiresIn: 24 * time.Hour},
		"family-invitation": InvitationData{InviterName: "Ann Lee", FamilyName: "The Lees", Role: "CAREGIVER",
			Message: "Join us!", AcceptURL: "https://care.example/accept-invite/inv789", ExpiresAt: at},
		"emergency-alert": EmergencyAlertData{Name: "Bo Lee", RaisedBy: "Ann Lee", CareRecipientName: "Grandma Rose",
			Type: "FALL", Title: "Fell in the kitchen", Description: "Conscious, hip pain.", Location: "Home",
			RaisedAt: at, AlertURL: "https://care.example/emergency/al1"},
		"medication-reminder": MedicationReminderData{Name: "Bo Lee", CareRecipientName: "Grandma Rose",
			MedicationName: "Metformin", Dosage: "500 mg", Instructions: "With food", DueAt: at,
			MedicationsURL: "https://care.example/medications"},
		"appointment-reminder": AppointmentReminderData{Name: "Bo Lee", CareRecipientName: "Grandma Rose",
			Title: "Cardiology check-up", DoctorName: "Dr. Patel", Location: "12 Main St", StartsAt: at,
			AppointmentURL: "https://care.example/calendar?appointment=ap1"},
		"refill-alert": RefillAlertData{Name: "Bo Lee", CareRecipientName: "Grandma Rose", MedicationName: "Metformin",
			Remaining: 5, MedicationsURL: "https://care.example/medications"},
		"shift-reminder": ShiftReminderData{Name: "Bo Lee", CareRecipientName: "Grandma Rose", StartsAt: at,
			EndsAt: at.Add(4 * time.Hour), Notes: "Bring groceries", ShiftURL: "https://care.example/shifts/sh1"},
		"data-export": DataExportData{Name: "Ann Lee", DownloadURL: "https://care.example/user/export/download", ExpiresAt: at},
	}
}

func TestEveryTemplateRenders(t *testing.T) {
	t.Parallel()
	tmpl, err := BuiltinTemplates()
	if err != nil {
		t.Fatal(err)
	}
	if got := tmpl.Names(); !slices.Equal(got, seedTemplates) {
		t.Fatalf("templates = %v, want the seed's %v", got, seedTemplates)
	}
	samples := sampleData(t)
	for _, name := range seedTemplates {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, ok := samples[name]
			if !ok {
				t.Fatalf("no sample data for %s", name)
			}
			m, err := Render(name, "en", data)
			if err != nil {
				t.Fatal(err)
			}
			if m.Template != name || m.To != "" {
				t.Errorf("message = %+v", m)
			}
			if strings.TrimSpace(m.Subject) == "" || strings.ContainsAny(m.Subject, "\r\n") {
				t.Errorf("subject = %q", m.Subject)
			}
			if strings.TrimSpace(m.Text) == "" || strings.Contains(m.Text, "<no value>") {
				t.Errorf("text = %q", m.Text)
			}
			if !strings.HasPrefix(m.HTML, "<!doctype html>") || !strings.Contains(m.HTML, `<html lang="en">`) ||
				strings.Contains(m.HTML, "<no value>") {
				t.Errorf("html = %q", m.HTML)
			}
			// Every link reaches both the text and the clickable HTML.
			v := reflect.ValueOf(data)
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if !strings.HasSuffix(f.Name, "URL") {
					continue
				}
				u := v.Field(i).String()
				if !strings.Contains(m.Text, u) || !strings.Contains(m.HTML, `href="`+u+`"`) {
					t.Errorf("%s %q missing from text or as a link in html", f.Name, u)
				}
			}
		})
	}
}

func TestTemplatesShowTheFacts(t *testing.T) {
	t.Parallel()
	samples := sampleData(t)
	cases := map[string][]string{
		"emergency-alert":         {"Grandma Rose", "Ann Lee", "Fell in the kitchen", "Conscious, hip pain.", "Location: Home", "Monday, March 9, 2026 at 8:00 AM EDT", "fall"},
		"medication-reminder":     {"Metformin", "500 mg", "8:00 AM", "March 9, 2026", "With food"},
		"appointment-reminder":    {"Cardiology check-up", "Dr. Patel", "12 Main St", "8:00 AM EDT"},
		"refill-alert":            {"Metformin", "5 doses left"},
		"shift-reminder":          {"8:00 AM", "until 12:00 PM.", "Bring groceries"},
		"password-reset":          {"1 hour"},
		"password-reset-by-admin": {"Sam Admin, a CareCircle administrator,", "24 hours"},
		"family-invitation":       {"Ann Lee invited you", "The Lees", "as caregiver", "Join us!"},
		"data-export":             {"Monday, March 9, 2026 at 8:00 AM EDT"},
	}
	for name, wants := range cases {
		m, err := Render(name, "en", samples[name])
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range wants {
			if !strings.Contains(m.Text, want) {
				t.Errorf("%s text lacks %q:\n%s", name, want, m.Text)
			}
			if !strings.Contains(m.HTML, want) {
				t.Errorf("%s html lacks %q:\n%s", name, want, m.HTML)
			}
		}
	}
	// Optional parts disappear without a trace.
	m, err := Render("emergency-alert", "en", EmergencyAlertData{Name: "Bo", RaisedBy: "Ann", CareRecipientName: "Rose",
		Type: "MEDICAL", Title: "Chest pain", AlertURL: "https://care.example/emergency/x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "Location") || strings.Contains(m.HTML, "Location") {
		t.Errorf("empty location shown:\n%s", m.Text)
	}
	m, err = Render("refill-alert", "en", RefillAlertData{Name: "Bo", CareRecipientName: "Rose", MedicationName: "X", Remaining: 1})
	if err != nil || !strings.Contains(m.Text, "1 dose left") {
		t.Errorf("one dose left: %v\n%s", err, m.Text)
	}
}

// hostile is what a user could type as a name, a title or a note.
const hostile = `<script>alert("x")</script> & <b>bold</b>`

func TestTemplatesEscapeUserText(t *testing.T) {
	t.Parallel()
	for name, data := range sampleData(t) {
		// Every text field a user can type gets the hostile value.
		v := reflect.New(reflect.TypeOf(data)).Elem()
		v.Set(reflect.ValueOf(data))
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.Type.Kind() == reflect.String && !strings.HasSuffix(f.Name, "URL") {
				v.Field(i).SetString(hostile)
			}
		}
		m, err := Render(name, "en", v.Interface())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<b>bold") {
			t.Errorf("%s: user text not escaped in html:\n%s", name, m.HTML)
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;") {
			t.Errorf("%s: escaped user text missing from html:\n%s", name, m.HTML)
		}
		// Plain text and subject carry the words as typed, on one line.
		if !strings.Contains(m.Text, hostile) {
			t.Errorf("%s: text lacks the user's words:\n%s", name, m.Text)
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("%s: subject spans lines: %q", name, m.Subject)
		}
	}
	// A link cannot become script.
	m, err := Render("welcome", "en", WelcomeData{Name: "Ann", DashboardURL: "javascript:alert(1)"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "javascript:") {
		t.Errorf("javascript: URL kept:\n%s", m.HTML)
	}
	// A line break typed into a name never starts a new header.
	m, err = Render("welcome", "en", WelcomeData{Name: "Ann\r\nBcc: victim@example.com"})
	if err != nil || strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject = %q, %v", m.Subject, err)
	}
}

func TestRenderLanguageFallback(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"en/layout.txt":    {Data: []byte("{{template \"content\" .}}-- en\n")},
		"en/layout.html":   {Data: []byte(`<html lang="{{lang}}">{{template "content" .}}</html>`)},
		"en/hello.subject": {Data: []byte("Hello {{.Name}}\n")},
		"en/hello.txt":     {Data: []byte("Hello {{.Name}}\n")},
		"en/hello.html":    {Data: []byte("<p>Hello {{.Name}}</p>")},
		"en/bye.subject":   {Data: []byte("Bye")},
		"en/bye.txt":       {Data: []byte("Bye\n")},
		"en/bye.html":      {Data: []byte("<p>Bye</p>")},
		"fr/layout.txt":    {Data: []byte("{{template \"content\" .}}-- fr\n")},
		"fr/hello.subject": {Data: []byte("Bonjour {{.Name}}")},
		"fr/hello.txt":     {Data: []byte("Bonjour {{.Name}}\n")},
		"fr/hello.html":    {Data: []byte("<p>Bonjour {{.Name}}</p>")},
	}
	tmpl, err := NewTemplates(fsys)
	if err != nil {
		t.Fatal(err)
	}
	data := struct{ Name string }{"Ann"}
	for _, c := range []struct{ name, lang, subject, text, html string }{
		{"hello", "fr", "Bonjour Ann", "Bonjour Ann\n-- fr\n", `<html lang="fr"><p>Bonjour Ann</p></html>`}, // fr layout.html from en
		{"hello", "fr-CA", "Bonjour Ann", "Bonjour Ann\n-- fr\n", `<html lang="fr"><p>Bonjour Ann</p></html>`},
		{"hello", "de", "Hello Ann", "Hello Ann\n-- en\n", `<html lang="en"><p>Hello Ann</p></html>`},
		{"hello", "", "Hello Ann", "Hello Ann\n-- en\n", `<html lang="en"><p>Hello Ann</p></html>`},
		{"bye", "fr", "Bye", "Bye\n-- en\n", `<html lang="en"><p>Bye</p></html>`}, // not translated: all English
	} {
		m, err := tmpl.Render(c.name, c.lang, data)
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != c.subject || m.Text != c.text || m.HTML != c.html {
			t.Errorf("%s in %q = %q / %q / %q", c.name, c.lang, m.Subject, m.Text, m.HTML)
		}
	}
	if _, err := tmpl.Render("nope", "en", data); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("unknown template: %v", err)
	}
	if _, err := tmpl.Render("hello", "en", struct{ Other string }{}); err == nil {
		t.Error("data without the template's fields rendered")
	}

	// A translation missing a part is refused at load time.
	delete(fsys, "fr/hello.html")
	if _, err := NewTemplates(fsys); err == nil {
		t.Error("incomplete translation accepted")
	}
}
