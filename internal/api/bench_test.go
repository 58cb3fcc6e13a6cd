package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/auth"
	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/kv"
	"github.com/carecircle/carecircle/internal/store"
	"github.com/carecircle/carecircle/internal/store/storetest"
)

// BenchmarkAppOpen serves, through the whole handler chain (request id,
// access log, security headers, CORS, authentication, the application
// layer, the store), the reads an app makes when it opens: GET /auth/me,
// the families, a family's care recipients, the medications and today's
// schedule, and reports the process's CPU time per request (cpu-ns/op)
// beside the time and allocations. It runs on PostgreSQL when CARECIRCLE_TEST_POSTGRES_URL is set,
// else on SQLite, with the node-memory cache, as a node without Redis has.
// For where the time goes:
//
//	go test ./internal/api -run '^$' -bench AppOpen -benchmem -cpuprofile /tmp/api.cpu
//	go tool pprof -top -nodecount 40 /tmp/api.cpu
func BenchmarkAppOpen(b *testing.B) {
	open := storetest.OpenSQLite
	if os.Getenv("CARECIRCLE_TEST_POSTGRES_URL") != "" {
		open = storetest.OpenPostgres
	}
	clk := clock.Real{}
	st := open(b, clk)
	tokens := auth.NewTokens([]byte("bench-secret-bench-secret-bench-"), time.Hour, clk.Now)
	api := New(Config{Prefix: testPrefix, PublicURL: "http://carecircle.test"}, Deps{
		Store: st, Tokens: tokens, Mail: &mailbox{}, Limiter: kv.NewMemoryLimiter(clk),
		Cache: kv.NewMemoryCache(clk, 0), Clock: clk, Logger: testLogger(b),
	})
	ctx := context.Background()
	u, err := st.CreateUser(ctx, store.NewUser{Email: "ann@example.com", PasswordHash: "x", FullName: "Ann Lee",
		Timezone: "America/New_York", Status: care.UserPending})
	if err != nil {
		b.Fatal(err)
	}
	if u, err = st.ActivateUser(ctx, u.ID); err != nil {
		b.Fatal(err)
	}
	sess, err := st.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: 24 * time.Hour, RefreshHash: auth.HashToken(auth.NewOpaqueToken())})
	if err != nil {
		b.Fatal(err)
	}
	token, err := tokens.Issue(u.ID, u.Email, sess.ID)
	if err != nil {
		b.Fatal(err)
	}
	f, _, err := st.CreateFamily(ctx, "Lee family", u.ID, nil)
	if err != nil {
		b.Fatal(err)
	}
	cr, err := st.CreateCareRecipient(ctx, care.CareRecipient{FamilyID: f.ID, FullName: "Grandma Lee", Timezone: "America/New_York"})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"Metformin", "Lisinopril"} {
		if _, err := st.CreateMedication(ctx, care.Medication{CareRecipientID: cr.ID, Name: name, Dosage: "10mg",
			Form: care.MedicationForm("TABLET"), Frequency: care.MedicationFrequency("TWICE_DAILY"),
			ScheduledTimes: []string{"08:00", "20:00"}, IsActive: true}); err != nil {
			b.Fatal(err)
		}
	}
	h := api.Handler()
	for _, c := range []struct{ name, path string }{
		{"me", "/auth/me"},
		{"families", "/families"},
		{"care-recipients", "/families/" + f.ID + "/care-recipients"},
		{"medications", "/care-recipients/" + cr.ID + "/medications"},
		{"schedule-today", "/care-recipients/" + cr.ID + "/medications/schedule/today"},
	} {
		p := c.path
		b.Run(c.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, testPrefix+p, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			start := processCPU(b)
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != http.StatusOK {
					b.Fatalf("GET %s: %d %s", p, w.Code, w.Body)
				}
			}
			// The process's CPU per request, every goroutine and the GC
			// included: steadier than the time per request on a shared
			// machine.
			b.ReportMetric(float64(processCPU(b)-start)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time the process has used, user and system.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
