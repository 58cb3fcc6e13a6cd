package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/store"
)

// exportKeys are the fields of a data export: the contract's, with the
// shifts, emergency alerts and documents.
var exportKeys = []string{"exportedAt", "user", "familyMemberships", "careRecipients", "medications",
	"medicationLogs", "appointments", "timelineEntries", "shifts", "emergencyAlerts", "documents", "notifications", "sessions"}

// addTimelineEntry records a timeline entry about a care recipient directly
// in the database and returns its id.
func (h *harness) addTimelineEntry(crID, byID, title string) string {
	h.t.Helper()
	id := "0190f000-0000-7000-8000-" + strings.Repeat("0", 12-len(title)) + title
	stamp := h.clock.Now().UTC().Format("2006-01-02T15:04:05.000000Z")
	if _, err := h.store.DB().Exec(`INSERT INTO timeline_entries (id, care_recipient_id, created_by_id, type,
		title, attachments, occurred_at, created_at, updated_at)
		VALUES ($1, $2, $3, 'NOTE', $4, '[]', $5, $5, $5)`, id, crID, byID, title, stamp); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// outboxEvents lists the not yet dispatched domain events of a type.
func (h *harness) outboxEvents(typ string) []store.OutboxEvent {
	h.t.Helper()
	evs, err := h.store.PendingEvents(context.Background(), 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []store.OutboxEvent
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// exportedIDs lists the ids of one section of an export.
func exportedIDs(t *testing.T, export map[string]any, section string) []string {
	t.Helper()
	list, ok := export[section].([]any)
	if !ok {
		t.Fatalf("export section %s is %T, want a list", section, export[section])
	}
	out := []string{}
	for _, v := range list {
		out = append(out, v.(map[string]any)["id"].(string))
	}
	return out
}

// auditActions lists the actions of the audit entries about a resource.
func (h *harness) auditActions(resourceID string) []string {
	h.t.Helper()
	var out []string
	for _, e := range h.auditEntries() {
		if e.ResourceID != nil && *e.ResourceID == resourceID {
			out = append(out, e.Action)
		}
	}
	return out
}

func TestUserExportHoldsTheFamilyDataAndNoSecrets(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		f := newFixture(t, h, newMatrixUsers(h))
		med := h.createMedicationAs(f.admin, f.CareRecipientID, dailyMedication())["id"].(string)
		doseLog := h.request("POST", "/medications/"+med+"/log", f.caregiver.Token,
			logBody("GIVEN", time.Date(2026, 3, 1, 23, 0, 0, 0, time.UTC))).expect(201).Map()["id"].(string)
		appt := h.request("POST", apptsPath(f.CareRecipientID), f.admin.Token, apptBody(testStart.Add(48*time.Hour))).expect(201).Map()["id"].(string)
		entry := h.addTimelineEntry(f.CareRecipientID, f.caregiver.ID, "a1")
		notes, err := h.store.InsertNotifications(ctx, []care.Notification{{UserID: f.viewer.ID, Type: care.NotifyGeneral,
			Title: "Welcome", Body: "to the family", Data: json.RawMessage(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		// Secrets the viewer has: a refresh token (hashed) from a real
		// sign-in and a pending phone code (hashed).
		viewerToken, viewerRefresh := signIn(h.login(f.viewer.Email, "Password1234"))
		if err := h.api.codes.Put(ctx, store.UserKey(store.PurposePhoneVerify, f.viewer.ID), "otp-code-hash-secret", time.Hour); err != nil {
			t.Fatal(err)
		}
		// A family the viewer is not in, with care records of its own.
		other, _, err := h.store.CreateFamily(ctx, "Others", f.outsider.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		stranger, err := h.store.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: other.ID, FullName: "Stranger", Timezone: "UTC"})
		if err != nil {
			t.Fatal(err)
		}
		h.addTimelineEntry(stranger.ID, f.outsider.ID, "b2")

		res := h.request("GET", "/user/export", viewerToken, nil).expect(200)
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type %q", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); cd != "" {
			t.Fatalf("the inline export is an attachment: %q", cd)
		}
		export := res.Map()
		for _, k := range exportKeys {
			if _, ok := export[k]; !ok {
				t.Fatalf("export lacks %q: %s", k, res.Body)
			}
		}
		if len(export) != len(exportKeys) {
			t.Fatalf("export has %d fields, want %d: %v", len(export), len(exportKeys), export)
		}
		if export["exportedAt"] != testStart.Format(time.RFC3339) {
			t.Fatalf("exportedAt = %v", export["exportedAt"])
		}
		if u := export["user"].(map[string]any); u["id"] != f.viewer.ID || u["email"] != f.viewer.Email {
			t.Fatalf("user = %v", u)
		}
		ms := export["familyMemberships"].([]any)
		if len(ms) != 1 || ms[0].(map[string]any)["familyName"] != "Matrix family" || ms[0].(map[string]any)["role"] != "VIEWER" {
			t.Fatalf("memberships = %v", ms)
		}
		for section, want := range map[string][]string{
			"careRecipients": {f.CareRecipientID}, "medications": {med}, "medicationLogs": {doseLog},
			"appointments": {appt}, "timelineEntries": {entry},
		} {
			if got := exportedIDs(t, export, section); !slices.Equal(got, want) {
				t.Fatalf("%s = %v, want %v", section, got, want)
			}
		}
		if got := exportedIDs(t, export, "notifications"); !slices.Contains(got, notes[0].ID) {
			t.Fatalf("notifications = %v, want %s among them", got, notes[0].ID)
		}
		sessions, err := h.store.UserSessions(ctx, f.viewer.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := exportedIDs(t, export, "sessions"); len(got) != len(sessions) || len(got) < 2 {
			t.Fatalf("sessions = %v, want the viewer's %d", got, len(sessions))
		}

		// No secret of any kind, in any encoding of it.
		u, err := h.store.UserByID(ctx, f.viewer.ID)
		if err != nil {
			t.Fatal(err)
		}
		var hashes []string
		rows, err := h.store.DB().Query(`SELECT t.token_hash FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id WHERE s.user_id = $1`, f.viewer.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var hsh string
			if err := rows.Scan(&hsh); err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, hsh)
		}
		rows.Close()
		if len(hashes) == 0 {
			t.Fatal("the viewer has no refresh token to look for")
		}
		body := string(res.Body)
		for _, secret := range append(hashes, u.PasswordHash, viewerRefresh, "otp-code-hash-secret", "passwordHash", "tokenHash", "codeHash") {
			if strings.Contains(body, secret) {
				t.Fatalf("the export contains %q", secret)
			}
		}
		if strings.Contains(body, "Stranger") || strings.Contains(body, stranger.ID) {
			t.Fatal("the export holds another family's care recipient")
		}
		if got := h.auditActions(f.viewer.ID); !slices.Contains(got, "user_data.export") {
			t.Fatalf("audit actions about the viewer = %v", got)
		}
	})
}

func TestUserExportDownloadIsAnAttachmentDatedWhereTheUserLives(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		h.createFamilyAs(ann, "Lees")

		// 15:00 UTC on 2 March is still 2 March in New York...
		res := h.request("GET", "/user/export/download", ann.Token, nil).expect(200)
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="carecircle-export-2026-03-02.json"` {
			t.Fatalf("Content-Disposition %q", cd)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("Content-Type %q", ct)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control %q", cc)
		}
		export := res.Map()
		if len(export) != len(exportKeys) || len(export["familyMemberships"].([]any)) != 1 {
			t.Fatalf("downloaded export = %s", res.Body)
		}
		// ...and already 3 March in Tokyo.
		tokyo := "Asia/Tokyo"
		if _, err := h.store.UpdateUser(context.Background(), ann.ID, store.UserPatch{Timezone: &tokyo}); err != nil {
			t.Fatal(err)
		}
		res = h.request("GET", "/user/export/download", ann.Token, nil).expect(200)
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="carecircle-export-2026-03-03.json"` {
			t.Fatalf("Content-Disposition in Tokyo %q", cd)
		}
		if got := h.auditActions(ann.ID); slices.Index(got, "user_data.download") < 0 {
			t.Fatalf("audit actions about ann = %v", got)
		}
	})
}

func TestUserExportIsRateLimitedPerAccount(t *testing.T) {
	t.Parallel()
	h := sqliteHarness(t, harnessOptions{rateLimit: true})
	ann, bo := h.newUser("ann@example.com"), h.newUser("bo@example.com")
	for i := range exportLimit.Count {
		h.clock.Advance(2 * time.Second) // clear of the per-second tier
		p := "/user/export"
		if i%2 == 1 {
			p = "/user/export/download"
		}
		h.request("GET", p, ann.Token, nil).expect(200)
	}
	h.clock.Advance(2 * time.Second)
	res := h.request("GET", "/user/export", ann.Token, nil)
	res.errorEnvelope(http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// Other routes and other accounts are not affected.
	h.request("GET", "/auth/me", ann.Token, nil).expect(200)
	h.request("GET", "/user/export", bo.Token, nil).expect(200)
}

func TestDeleteAccountAnonymisesEndsSessionsAndLeavesFamilies(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ctx := context.Background()
		ann, bo := h.newUser("ann@example.com"), h.newUser("bo@example.com")
		lees := h.createFamilyAs(ann, "Lees")
		boMember := h.joinFamily(ann, lees, bo, "CAREGIVER")
		solo := h.createFamilyAs(ann, "Ann alone")
		cr := h.createCareRecipientAs(ann, lees, map[string]any{"fullName": "Grandma", "timezone": "UTC"})["id"].(string)
		med := h.createMedicationAs(ann, cr, dailyMedication())["id"].(string)
		doseLog := h.request("POST", "/medications/"+med+"/log", ann.Token,
			logBody("GIVEN", time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC))).expect(201).Map()["id"].(string)
		other, refresh := signIn(h.login("ann@example.com", "Password1234"))
		h.request("POST", "/notifications/push-subscription", ann.Token, map[string]any{
			"endpoint": "https://push.example.com/send/ann", "keys": map[string]any{
				"p256dh": "BOr4n0SFnKb9jQnWo2K4xqMsWlj3lcS-_gctSRa7PNCVdHjPQMJzFMkMGTM6t9FnSkNgTgaN7hlY5uEh6U0wPcI", "auth": "8eDyX_uCN0XRhSbY5hs7Hg"}}).expect(201)
		h.request("POST", "/notifications/push-token", ann.Token, map[string]any{"token": "fcm-ann", "platform": "android"}).expect(201)

		// The last admin of a family with other members is refused, and
		// nothing changes: not even the family she is alone in.
		m := h.request("DELETE", "/user/delete-account", ann.Token, nil).errorEnvelope(409)
		expectMessage(t, m, "You are the last admin of Lees; make another member admin or delete the family first")
		h.request("GET", "/auth/me", ann.Token, nil).expect(200)
		if fams := h.request("GET", "/families", ann.Token, nil).expect(200).List(); len(fams) != 2 {
			t.Fatalf("ann's families after the refusal = %v", fams)
		}
		if subs, _ := h.store.PushSubscriptions(ctx, ann.ID); len(subs) != 1 {
			t.Fatalf("subscriptions after the refusal = %v", subs)
		}
		if n := len(h.outboxEvents("family.member.left")) + len(h.outboxEvents("family.deleted")); n != 0 {
			t.Fatalf("%d events after the refusal", n)
		}

		// A wrong password, when one is sent, stops it too.
		h.request("PATCH", "/families/"+lees+"/members/"+boMember+"/role", ann.Token, map[string]any{"role": "ADMIN"}).expect(200)
		m = h.request("DELETE", "/user/delete-account", ann.Token, map[string]any{"password": "Not-her-password-1"}).errorEnvelope(400)
		if fieldErrors(m)["password"] == nil {
			t.Fatalf("wrong password: %v", m)
		}
		h.request("DELETE", "/user/delete-account", ann.Token, map[string]any{"unknown": true}).errorEnvelope(400)
		h.request("GET", "/auth/me", ann.Token, nil).expect(200)

		res := h.request("DELETE", "/user/delete-account", ann.Token, map[string]any{"password": "Password1234"}).expect(200)
		if res.Map()["success"] != true {
			t.Fatalf("answer %s", res.Body)
		}
		if c := res.Header.Values("Set-Cookie"); len(c) != 2 || !strings.HasPrefix(c[0], "access_token=;") {
			t.Fatalf("cookies not cleared: %v", c)
		}

		// Every session ends: the token used, the other device, the refresh token.
		h.request("GET", "/auth/me", ann.Token, nil).errorEnvelope(401)
		h.request("GET", "/auth/me", other, nil).errorEnvelope(401)
		h.request("POST", "/auth/refresh", "", map[string]any{"refreshToken": refresh}).errorEnvelope(401)
		h.login("ann@example.com", "Password1234").errorEnvelope(401)

		u, err := h.store.UserByID(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != care.UserDeleted || u.FullName != "Deleted user" || u.Phone != nil ||
			!strings.HasSuffix(u.Email, ".invalid") || u.Email == "ann@example.com" {
			t.Fatalf("anonymised account = %+v", u)
		}
		h.login(u.Email, "Password1234").errorEnvelope(401)
		if subs, _ := h.store.PushSubscriptions(ctx, ann.ID); len(subs) != 0 {
			t.Fatalf("subscriptions left: %v", subs)
		}
		if toks, _ := h.store.PushTokens(ctx, ann.ID); len(toks) != 0 {
			t.Fatalf("push tokens left: %v", toks)
		}

		// Bo keeps the family and its records; the dose Ann gave keeps its id.
		members := h.request("GET", "/families/"+lees+"/members", bo.Token, nil).expect(200).List()
		if len(members) != 1 || members[0]["userId"] != bo.ID {
			t.Fatalf("members after ann left = %v", members)
		}
		logs := h.request("GET", medicationsPath(cr)+"/"+med+"/logs", bo.Token, nil).expect(200).List()
		if len(logs) != 1 || logs[0]["id"] != doseLog || logs[0]["givenBy"].(map[string]any)["fullName"] != "Deleted user" {
			t.Fatalf("logs after ann left = %v", logs)
		}
		if _, err := h.store.Family(ctx, solo); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the family ann was alone in: %v", err)
		}

		left := h.outboxEvents("family.member.left")
		if len(left) != 1 || left[0].FamilyID != lees || !strings.Contains(string(left[0].Envelope), ann.ID) ||
			strings.Contains(string(left[0].Envelope), "ann@example.com") {
			t.Fatalf("family.member.left events = %+v", left)
		}
		deleted := h.outboxEvents("family.deleted")
		if len(deleted) != 1 || deleted[0].FamilyID != solo {
			t.Fatalf("family.deleted events = %+v", deleted)
		}
		if got := h.auditActions(ann.ID); !slices.Contains(got, "DELETE /user/delete-account") {
			t.Fatalf("audit actions about ann = %v", got)
		}
		// The address can sign up again, as a new account.
		h.request("POST", "/auth/register", "", map[string]any{"fullName": "Ann Again", "email": "ann@example.com", "password": strongPassword}).expect(201)
	})
}

func TestDeleteAccountOfTheOnlyMemberDeletesTheFamily(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, h *harness) {
		ann := h.newUser("ann@example.com")
		fam := h.createFamilyAs(ann, "Ann alone")
		cr := h.createCareRecipientAs(ann, fam, map[string]any{"fullName": "Grandpa", "timezone": "UTC"})["id"].(string)

		h.request("DELETE", "/user/delete-account", ann.Token, nil).expect(200)
		if _, err := h.store.Family(context.Background(), fam); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("family: %v", err)
		}
		if _, err := h.store.CareRecipient(context.Background(), cr); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("care recipient: %v", err)
		}
		evs := h.outboxEvents("family.deleted")
		if len(evs) != 1 || evs[0].FamilyID != fam {
			t.Fatalf("family.deleted events = %+v", evs)
		}
		var env struct {
			Data struct {
				ID      string   `json:"id"`
				UserIDs []string `json:"userIds"`
			} `json:"data"`
		}
		if err := json.Unmarshal(evs[0].Envelope, &env); err != nil || env.Data.ID != fam || !slices.Equal(env.Data.UserIDs, []string{ann.ID}) {
			t.Fatalf("family.deleted data = %s, %v", evs[0].Envelope, err)
		}
		if n := len(h.outboxEvents("family.member.left")); n != 0 {
			t.Fatalf("%d family.member.left events for a deleted family", n)
		}
		// Deleting again is not possible: the account is gone.
		h.request("DELETE", "/user/delete-account", ann.Token, nil).errorEnvelope(401)
	})
}
