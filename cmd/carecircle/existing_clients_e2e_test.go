package main

import (
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/store/storetest"
)

// TestOriginalClientJourneys replays, against the real binary, the calls
// the original web client (apps/web/src/lib/api/*.ts) makes in its main
// journeys, with its bodies, and checks what it reads from each answer:
// sign-up and onboarding, the family and care recipient, medications and
// today's schedule, dose logs from the medications page and the tracker,
// the timeline form, the appointment form, a caregiver's shift, the
// emergency card, chat and the probes.
func TestOriginalClientJourneys(t *testing.T) {
	t.Parallel()
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"DATA_DIR": t.TempDir(), "ALLOWED_ORIGINS": "http://localhost:3000"}
			if backend == "postgres" {
				env["DATABASE_URL"] = storetest.NewPostgresSchema(t)
			}
			c := serveProcess(t, env)
			c.outbox = filepath.Join(env["DATA_DIR"], "outbox")

			// Sign-up: verify-email answers the user with families.
			c.call("POST", "/auth/register", "", map[string]any{"fullName": "Ann Lee", "email": "ann@example.com", "password": "Correct-horse-42"}, 201)
			code := codeRE.FindStringSubmatch(c.lastMail("ann@example.com"))
			v := c.call("POST", "/auth/verify-email", "", map[string]any{"email": "ann@example.com", "otp": code[1]}, 200)
			token := v["accessToken"].(string)
			if fams, ok := v["user"].(map[string]any)["families"].([]any); !ok || len(fams) != 0 {
				t.Fatalf("verify-email user = %v", v["user"])
			}
			// Onboarding: a family, a care recipient, done.
			fam := c.call("POST", "/families", token, map[string]any{"name": "The Lees"}, 201)
			cr := c.call("POST", "/families/"+fam["id"].(string)+"/care-recipients", token, map[string]any{
				"fullName": "Grandma Lee", "preferredName": "Gran", "bloodType": "A+", "allergies": []string{"Penicillin"}}, 201)
			crID := cr["id"].(string)
			if done := c.call("POST", "/auth/complete-onboarding", token, map[string]any{}, 200); done["message"] == nil ||
				done["user"].(map[string]any)["onboardingCompleted"] != true {
				t.Fatalf("complete-onboarding = %v", done)
			}
			if got := c.call("POST", "/auth/invalidate-cache", token, map[string]any{}, 200); got["success"] != true {
				t.Fatalf("invalidate-cache = %v", got)
			}
			// Sign-in routes on user.families.
			login := c.call("POST", "/auth/login", "", map[string]any{"email": "ann@example.com", "password": "Correct-horse-42"}, 200)
			token = login["accessToken"].(string)
			fams := login["user"].(map[string]any)["families"].([]any)
			if len(fams) != 1 || fams[0].(map[string]any)["role"] != "ADMIN" ||
				fams[0].(map[string]any)["careRecipients"].([]any)[0].(map[string]any)["id"] != crID {
				t.Fatalf("login families = %v", fams)
			}
			zone := cr["timezone"].(string)
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}

			// Medications: created without times; today's schedule read as
			// the client flattens it; doses logged as "HH:mm" and as the
			// tracker's instant.
			med := c.call("POST", "/care-recipients/"+crID+"/medications", token, map[string]any{
				"name": "Metformin", "dosage": "500mg", "form": "TABLET", "frequency": "TWICE_DAILY", "currentSupply": 60, "refillAt": 10}, 201)
			medID := med["id"].(string)
			sched := c.callList("GET", "/care-recipients/"+crID+"/medications/schedule/today", token)
			entry := sched[0].(map[string]any)
			if !reflect.DeepEqual(entry["scheduledTimes"], []any{"08:00", "20:00"}) || len(entry["doses"].([]any)) != 2 {
				t.Fatalf("schedule entry = %v", entry)
			}
			c.call("POST", "/medications/"+medID+"/log", token, map[string]any{"status": "GIVEN", "scheduledTime": "08:00"}, 201)
			c.call("POST", "/medications/"+medID+"/log", token, map[string]any{"status": "GIVEN", "scheduledTime": "08:00"}, 409)
			y, m, d := time.Now().In(loc).Date()
			tracker := time.Date(y, m, d, 19, 53, 0, 0, loc).UTC().Format("2006-01-02T15:04:05.000Z")
			evening := c.call("POST", "/medications/"+medID+"/log", token, map[string]any{"status": "SKIPPED", "scheduledTime": tracker, "skipReason": "Asleep"}, 201)
			if want := time.Date(y, m, d, 20, 0, 0, 0, loc).UTC().Format(time.RFC3339); evening["scheduledTime"] != want {
				t.Fatalf("the tracker's instant logged %v, want %s", evening["scheduledTime"], want)
			}

			// Timeline: the add-entry form's bodies.
			tl := "/care-recipients/" + crID + "/timeline"
			vit := c.call("POST", tl, token, map[string]any{"type": "VITALS", "title": "Vitals", "vitals": map[string]any{
				"bloodPressure": "120/80", "heartRate": 72, "temperature": 98.6, "bloodSugar": 110, "oxygenLevel": 98, "weight": 150}}, 201)
			mood := c.call("POST", tl, token, map[string]any{"type": "MOOD", "title": "Mood", "vitals": map[string]any{"mood": "Happy"}}, 201)
			c.call("POST", tl, token, map[string]any{"type": "MEAL", "title": "Lunch", "vitals": map[string]any{"mealType": "lunch", "mealDescription": "Soup"}}, 201)
			c.call("POST", tl, token, map[string]any{"type": "SLEEP", "title": "Night", "vitals": map[string]any{"sleepQuality": "good", "sleepDuration": 7.5}}, 201)
			c.call("POST", tl, token, map[string]any{"type": "ACTIVITY", "title": "Walk", "vitals": map[string]any{"activityType": "walk", "activityDuration": 20}}, 201)
			if got := c.call("PATCH", tl+"/"+mood["id"].(string), token, map[string]any{"title": "Mood, later"}, 200); got["vitals"].(map[string]any)["mood"] != "Happy" {
				t.Fatalf("patched mood entry = %v", got)
			}
			if got := c.call("GET", tl+"/"+vit["id"].(string), token, nil, 200); got["vitals"].(map[string]any)["temperatureUnit"] != "F" {
				t.Fatalf("vitals entry = %v", got)
			}

			// Appointments: the form's body.
			start := time.Now().Add(72 * time.Hour).UTC().Truncate(time.Minute)
			appt := c.call("POST", "/care-recipients/"+crID+"/appointments", token, map[string]any{
				"title": "Check-up", "type": "DOCTOR_VISIT", "dateTime": start.Format("2006-01-02T15:04:05.000Z"), "duration": 30,
				"doctorName": "Dr. Smith", "reminderBefore": []string{"1day", "1hour"}}, 201)
			if appt["endTime"] != start.Add(30*time.Minute).Format(time.RFC3339) || !reflect.DeepEqual(appt["reminderMinutes"], []any{60.0, 1440.0}) {
				t.Fatalf("appointment = %v", appt)
			}

			// A shift: created, checked in with the client's body, on duty.
			sh := c.call("POST", "/care-recipients/"+crID+"/shifts", token, map[string]any{
				"caregiverId": login["user"].(map[string]any)["id"], "startTime": time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339),
				"endTime": time.Now().Add(4 * time.Hour).UTC().Format(time.RFC3339)}, 201)
			c.call("POST", "/care-recipients/"+crID+"/shifts/"+sh["id"].(string)+"/checkin", token, map[string]any{"notes": "Here", "location": "Home"}, 200)
			duty := c.call("GET", "/care-recipients/"+crID+"/shifts/on-duty", token, nil, 200)
			if duty["shift"].(map[string]any)["id"] != sh["id"] || duty["caregiver"].(map[string]any)["fullName"] != "Ann Lee" {
				t.Fatalf("on duty = %v", duty)
			}

			// The emergency card, chat and the probes.
			info := c.call("GET", "/care-recipients/"+crID+"/emergency/info", token, nil, 200)
			if info["familyMembers"].([]any)[0].(map[string]any)["name"] != "Ann Lee" {
				t.Fatalf("emergency members = %v", info["familyMembers"])
			}
			if chat := c.call("GET", "/chat/token", token, nil, 200); chat["configured"] != false {
				t.Fatalf("chat token = %v", chat)
			}
			c.call("POST", "/ai/ask", token, map[string]any{"question": "How is Gran?", "careRecipientId": crID}, 501)
			res, err := http.Get(c.base + "/health/live")
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("/health/live = %d", res.StatusCode)
			}

			// A preflight from the client's origin is answered with credentials.
			req, _ := http.NewRequest("OPTIONS", c.base+"/api/v1/auth/login", nil)
			req.Header.Set("Origin", "http://localhost:3000")
			req.Header.Set("Access-Control-Request-Method", "POST")
			pre, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			pre.Body.Close()
			if pre.StatusCode != 204 || pre.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
				!strings.EqualFold(pre.Header.Get("Access-Control-Allow-Credentials"), "true") {
				t.Fatalf("preflight = %d %v", pre.StatusCode, pre.Header)
			}
		})
	}
}
