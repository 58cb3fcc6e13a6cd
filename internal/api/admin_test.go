package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// adminTestArgs is a job kind the admin tests enqueue.
type adminTestArgs struct {
	N int `json:"n"`
}

func (adminTestArgs) Kind() string { return "admin_test" }

// adminQueue migrates the job queue's tables and builds an insert-only
// River client that knows adminTestArgs.
func adminQueue(t *testing.T, st *store.Store) JobRetrier {
	t.Helper()
	if err := jobs.Migrate(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(context.Context, *river.Job[adminTestArgs]) error { return nil }))
	c, err := jobs.NewClient(st, workers, jobs.ClientConfig{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func adminHarness(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) *harness {
	return newHarness(t, open, harnessOptions{jobs: adminQueue})
}

// setSystemRole gives u a system role.
func (h *harness) setSystemRole(u testUser, role care.SystemRole) testUser {
	h.t.Helper()
	got, err := h.store.SetSystemRole(context.Background(), u.Email, role)
	if err != nil {
		h.t.Fatal(err)
	}
	u.User = got
	return u
}

// enqueue inserts a job for the admin tests and returns its id.
func (h *harness) enqueue(queue string, n int) int64 {
	h.t.Helper()
	c := h.api.jobs.(*river.Client[*sql.Tx])
	res, err := c.Insert(context.Background(), adminTestArgs{N: n}, &river.InsertOpts{Queue: queue})
	if err != nil {
		h.t.Fatal(err)
	}
	return res.Job.ID
}

// addDeadLetter records a dead letter for job (0: none) and returns its id.
func (h *harness) addDeadLetter(job int64) string {
	h.t.Helper()
	ctx := context.Background()
	d := store.DeadLetter{Kind: "admin_test", Queue: jobs.QueueNotifications, Args: "{}", Error: "boom", Attempts: 5}
	if job != 0 {
		d.JobID = &job
	}
	if err := h.store.AddDeadLetter(ctx, d); err != nil {
		h.t.Fatal(err)
	}
	list, err := h.store.DeadLetters(ctx, 1, 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return list[0].ID
}

// The admin routes answer only system administrators: 401 without a
// session, 403 for USER, and ADMIN and SUPER_ADMIN are served.
func TestAdminRoutesPermissionMatrix(t *testing.T) {
	t.Parallel()
	h := adminHarness(t, storetest.OpenSQLite)
	users := map[care.SystemRole]testUser{}
	for _, role := range []care.SystemRole{care.SystemUser, care.SystemAdmin, care.SystemSuperAdmin} {
		users[role] = h.setSystemRole(h.newUser(strings.ToLower(string(role))+"@example.com"), role)
	}
	n := 0
	fresh := func(status care.UserStatus) string {
		n++
		u := h.newUser(fmt.Sprintf("target%d@example.com", n))
		switch status {
		case care.UserSuspended:
			if _, _, err := h.store.SuspendUser(context.Background(), u.ID); err != nil {
				t.Fatal(err)
			}
		case care.UserPending:
			if _, err := h.store.DB().Exec(`UPDATE users SET status = 'PENDING', email_verified = FALSE WHERE id = $1`, u.ID); err != nil {
				t.Fatal(err)
			}
		}
		return u.ID
	}
	cases := []struct {
		name, method string
		path         func() string
		ok           int
	}{
		{"system", "GET", func() string { return "/admin/system" }, 200},
		{"jobs", "GET", func() string { return "/admin/jobs?queue=notifications&state=available" }, 200},
		{"failed jobs", "GET", func() string { return "/admin/jobs/failed" }, 200},
		{"retry failed job", "POST", func() string {
			return "/admin/jobs/failed/" + h.addDeadLetter(h.enqueue(jobs.QueueNotifications, 1)) + "/retry"
		}, 200},
		{"discard failed job", "POST", func() string { return "/admin/jobs/failed/" + h.addDeadLetter(0) + "/discard" }, 200},
		{"reminders last hour", "GET", func() string { return "/admin/reminders/last-hour" }, 200},
		{"email quota", "GET", func() string { return "/admin/email/quota" }, 200},
		{"users", "GET", func() string { return "/admin/users?q=example" }, 200},
		{"suspend", "POST", func() string { return "/admin/users/" + fresh(care.UserActive) + "/suspend" }, 200},
		{"unsuspend", "POST", func() string { return "/admin/users/" + fresh(care.UserSuspended) + "/unsuspend" }, 200},
		{"resend verification", "POST", func() string { return "/admin/users/" + fresh(care.UserPending) + "/resend-verification" }, 200},
	}
	for _, c := range cases {
		h.request(c.method, c.path(), "", nil).errorEnvelope(401)
		h.request(c.method, c.path(), users[care.SystemUser].Token, nil).errorEnvelope(403)
		for _, role := range []care.SystemRole{care.SystemAdmin, care.SystemSuperAdmin} {
			if r := h.request(c.method, c.path(), users[role].Token, nil); r.Status != c.ok {
				t.Errorf("%s as %s = %d, want %d: %s", c.name, role, r.Status, c.ok, r.Body)
			}
		}
	}
}

func TestAdminRoutesRefuseBadInput(t *testing.T) {
	t.Parallel()
	h := adminHarness(t, storetest.OpenSQLite)
	root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
	missing := "0190f000-0000-7000-8000-000000000000"
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"GET", "/admin/jobs?state=bogus", 400},
		{"GET", "/admin/jobs?queue=bogus", 400},
		{"GET", "/admin/jobs?limit=0", 400},
		{"GET", "/admin/jobs?limit=201", 400},
		{"GET", "/admin/jobs?limit=x", 400},
		{"GET", "/admin/jobs?cursor=not-a-cursor", 400},
		{"GET", "/admin/jobs?cursor=" + strings.Repeat("a", 2000), 400},
		{"GET", "/admin/users?limit=101", 400},
		{"GET", "/admin/users?offset=-1", 400},
		{"GET", "/admin/users?q=" + strings.Repeat("a", 201), 400},
		{"POST", "/admin/jobs/failed/not-a-uuid/discard", 400},
		{"POST", "/admin/jobs/failed/" + missing + "/discard", 404},
		{"POST", "/admin/users/not-a-uuid/suspend", 400},
		{"POST", "/admin/users/" + missing + "/suspend", 404},
		{"POST", "/admin/users/" + missing + "/unsuspend", 404},
		{"POST", "/admin/users/" + missing + "/resend-verification", 404},
		{"POST", "/admin/users/" + root.ID + "/suspend", 409}, // one's own account
		{"GET", "/admin/users/" + root.ID + "/suspend", 405},
	} {
		if r := h.request(c.method, c.path, root.Token, nil); r.Status != c.status {
			t.Errorf("%s %s = %d, want %d: %s", c.method, c.path, r.Status, c.status, r.Body)
		} else {
			r.errorEnvelope(c.status)
		}
	}
}

func TestAdminJobsByQueueAndStateWithPages(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		h := adminHarness(t, open)
		root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
		var ids []int64
		for i := range 3 {
			ids = append(ids, h.enqueue(jobs.QueueNotifications, i))
		}
		h.enqueue(jobs.QueueRefillAlerts, 9)
		var page struct {
			Counts []store.QueueDepth `json:"counts"`
			Jobs   []struct {
				ID    int64  `json:"id"`
				Kind  string `json:"kind"`
				Queue string `json:"queue"`
				State string `json:"state"`
			} `json:"jobs"`
			NextCursor string `json:"nextCursor"`
		}
		h.request("GET", "/admin/jobs?queue=notifications&state=available&limit=2", root.Token, nil).expect(200).JSON(&page)
		counts := map[string]int{}
		for _, c := range page.Counts {
			counts[c.Queue+"/"+c.State] = c.Count
		}
		if counts["notifications/available"] != 3 || counts["refill-alerts/available"] != 1 {
			t.Fatalf("counts = %v", page.Counts)
		}
		if len(page.Jobs) != 2 || page.Jobs[0].ID != ids[0] || page.Jobs[1].ID != ids[1] || page.Jobs[0].Kind != "admin_test" || page.NextCursor == "" {
			t.Fatalf("first page = %+v", page)
		}
		h.request("GET", "/admin/jobs?queue=notifications&state=available&limit=2&cursor="+url.QueryEscape(page.NextCursor), root.Token, nil).expect(200).JSON(&page)
		if len(page.Jobs) != 1 || page.Jobs[0].ID != ids[2] || page.NextCursor != "" {
			t.Fatalf("second page = %+v", page)
		}
		h.request("GET", "/admin/jobs?state=discarded", root.Token, nil).expect(200).JSON(&page)
		if len(page.Jobs) != 0 {
			t.Fatalf("discarded = %+v", page.Jobs)
		}
	})
}

func TestAdminDiscardDropsTheDeadLetterAndItsJob(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		h := adminHarness(t, open)
		root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
		job := h.enqueue(jobs.QueueNotifications, 1)
		dl := h.addDeadLetter(job)
		got := h.request("POST", "/admin/jobs/failed/"+dl+"/discard", root.Token, nil).expect(200).Map()
		if got["success"] != true || got["id"] != dl {
			t.Fatalf("discard = %v", got)
		}
		if _, err := h.store.DeadLetter(context.Background(), dl); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("dead letter still there: %v", err)
		}
		c := h.api.jobs.(*river.Client[*sql.Tx])
		if _, err := c.JobGet(context.Background(), job); !errors.Is(err, rivertype.ErrNotFound) {
			t.Fatalf("job still queued: %v", err)
		}
		h.request("POST", "/admin/jobs/failed/"+dl+"/discard", root.Token, nil).errorEnvelope(404)
		// A retried dead letter is not discarded.
		retried := h.addDeadLetter(h.enqueue(jobs.QueueNotifications, 2))
		h.request("POST", "/admin/jobs/failed/"+retried+"/retry", root.Token, nil).expect(200)
		h.request("POST", "/admin/jobs/failed/"+retried+"/discard", root.Token, nil).errorEnvelope(409)
		entries, _, err := h.store.AuditLog(context.Background(), store.AuditQuery{Action: "POST /admin/jobs/failed/{id}/discard"})
		if err != nil || len(entries) != 1 || *entries[0].ActorID != root.ID || *entries[0].ResourceID != dl || *entries[0].ResourceType != "job" {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
	})
}

func TestAdminSuspendEndsSessionsAndBarsSignIn(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		rt := &disconnects{}
		h := newHarness(t, open, harnessOptions{jobs: adminQueue, realtime: rt})
		root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
		ann := h.newUser("ann@example.com")
		h.request("GET", "/auth/me", ann.Token, nil).expect(200)

		var found struct {
			Total int `json:"total"`
			Items []struct {
				ID, Email, Status string
			} `json:"items"`
		}
		h.request("GET", "/admin/users?q=ANN", root.Token, nil).expect(200).JSON(&found)
		if found.Total != 1 || len(found.Items) != 1 || found.Items[0].ID != ann.ID || found.Items[0].Status != "ACTIVE" {
			t.Fatalf("search = %+v", found)
		}
		got := h.request("POST", "/admin/users/"+ann.ID+"/suspend", root.Token, nil).expect(200).Map()
		if got["user"].(map[string]any)["status"] != "SUSPENDED" || got["sessionsEnded"].(float64) != 1 {
			t.Fatalf("suspend = %v", got)
		}
		if calls := rt.take(); len(calls) != 1 || calls[0] != "user "+ann.ID+" keep=" {
			t.Fatalf("realtime told %v", calls)
		}
		h.request("GET", "/auth/me", ann.Token, nil).errorEnvelope(401)
		h.login("ann@example.com", "Password1234").errorEnvelope(403)
		// Suspending again changes nothing.
		h.request("POST", "/admin/users/"+ann.ID+"/suspend", root.Token, nil).expect(200)
		h.request("POST", "/admin/users/"+ann.ID+"/resend-verification", root.Token, nil).errorEnvelope(409)

		got = h.request("POST", "/admin/users/"+ann.ID+"/unsuspend", root.Token, nil).expect(200).Map()
		if got["user"].(map[string]any)["status"] != "ACTIVE" {
			t.Fatalf("unsuspend = %v", got)
		}
		h.login("ann@example.com", "Password1234").expect(200)
		h.request("POST", "/admin/users/"+ann.ID+"/unsuspend", root.Token, nil).errorEnvelope(409)

		// Only a super admin acts on another admin's account.
		other := h.setSystemRole(h.newUser("other@example.com"), care.SystemAdmin)
		h.request("POST", "/admin/users/"+other.ID+"/suspend", root.Token, nil).errorEnvelope(403)
		super := h.setSystemRole(h.newUser("super@example.com"), care.SystemSuperAdmin)
		h.request("POST", "/admin/users/"+other.ID+"/suspend", super.Token, nil).expect(200)

		entries, _, err := h.store.AuditLog(context.Background(), store.AuditQuery{Action: "POST /admin/users/{id}/suspend"})
		if err != nil || len(entries) != 3 {
			t.Fatalf("audit = %+v, %v", entries, err)
		}
		if e := entries[len(entries)-1]; *e.ActorID != root.ID || *e.ResourceType != "user" || *e.ResourceID != ann.ID {
			t.Fatalf("first suspension's audit = %+v", e)
		}
	})
}

func TestAdminResendVerificationMailsAPendingAccount(t *testing.T) {
	t.Parallel()
	h := adminHarness(t, storetest.OpenSQLite)
	root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
	cy := h.newUser("cy@example.com")
	if _, err := h.store.DB().Exec(`UPDATE users SET status = 'PENDING', email_verified = FALSE WHERE id = $1`, cy.ID); err != nil {
		t.Fatal(err)
	}
	h.request("POST", "/admin/users/"+cy.ID+"/resend-verification", root.Token, nil).expect(200)
	if h.mail.count("cy@example.com") != 1 {
		t.Fatalf("mails to cy = %d", h.mail.count("cy@example.com"))
	}
	// The same cooldown as the public route.
	h.request("POST", "/admin/users/"+cy.ID+"/resend-verification", root.Token, nil).errorEnvelope(429)
	h.request("POST", "/admin/users/"+root.ID+"/resend-verification", root.Token, nil).errorEnvelope(409)
}

func TestAdminLedgerQuotaAndSystem(t *testing.T) {
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, open func(testing.TB, clock.Clock) *store.Store) {
		h := adminHarness(t, open)
		root := h.setSystemRole(h.newUser("root@example.com"), care.SystemAdmin)
		ledger := h.request("GET", "/admin/reminders/last-hour", root.Token, nil).expect(200).Map()
		for _, k := range []string{"from", "to", "planned", "sent", "suppressed", "skipped", "pending", "lateP99Ms"} {
			if _, ok := ledger[k]; !ok {
				t.Fatalf("ledger lacks %s: %v", k, ledger)
			}
		}
		quota := h.request("GET", "/admin/email/quota", root.Token, nil).expect(200).Map()
		if quota["day"] != testStart.UTC().Format("2006-01-02") {
			t.Fatalf("quota = %v", quota)
		}
		sys := h.request("GET", "/admin/system", root.Token, nil).expect(200).Map()
		db := sys["database"].(map[string]any)
		comps := sys["components"].(map[string]any)
		if db["status"] != "up" || comps["redis"].(map[string]any)["status"] != "disabled" {
			t.Fatalf("system = %v", sys)
		}
		if _, ok := comps["queue"].([]any); !ok {
			t.Fatalf("queue component = %v", comps["queue"])
		}
	})
}
