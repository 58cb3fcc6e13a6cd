// Package operator reads what an operator's page shows: the state of the
// database, Redis, the broker and the job queue, jobs by queue and state,
// dead letters, the reminder ledger's last hour, each email provider's
// quota and the accounts. The admin API routes and the /admin page both
// read through it, so they cannot disagree.
package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/carecircle/carecircle/internal/care"
	"github.com/carecircle/carecircle/internal/clock"
	"github.com/carecircle/carecircle/internal/jobs"
	"github.com/carecircle/carecircle/internal/mail"
	"github.com/carecircle/carecircle/internal/store"
)

// HealthReporter describes one more component of the system's state (the
// email quota, the outbox, the broker, realtime), as GET /health shows it.
type HealthReporter interface {
	Name() string
	Health(ctx context.Context) any
}

// SharedState is the shared-state backend (Redis): "up", or "degraded"
// while Redis is away and node-local fallbacks serve.
type SharedState interface {
	Status() (state string, since time.Time)
}

// JobLister pages through the job queue's jobs; the River client is one.
type JobLister interface {
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Deps are what the service reads from; every one but Store may be nil.
type Deps struct {
	Store  *store.Store
	Clock  clock.Clock
	Shared SharedState
	Health []HealthReporter
	// Jobs lists the queue's jobs; nil shows only the counts.
	Jobs JobLister
	// Mail is the email chain whose providers and quota are shown.
	Mail *mail.Chain
}

// Service reads the operator's view of the system.
type Service struct {
	store  *store.Store
	clock  clock.Clock
	shared SharedState
	health []HealthReporter
	jobs   JobLister
	mail   *mail.Chain
}

// New builds the service.
func New(d Deps) *Service {
	s := &Service{store: d.Store, clock: d.Clock, shared: d.Shared, health: d.Health, jobs: d.Jobs, mail: d.Mail}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	return s
}

// ErrBadRequest marks a filter or cursor the service cannot use; its text
// says what is wrong.
var ErrBadRequest = errors.New("operator: bad request")

func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
}

// Components reports each component but the database, as GET /health
// details them: Redis, the queue, the scheduler, dead letters and every
// health reporter (email quota, outbox, broker, realtime).
func (s *Service) Components(ctx context.Context) map[string]any {
	components := map[string]any{}
	if s.shared != nil {
		state, since := s.shared.Status()
		components["redis"] = map[string]any{"status": state, "since": since.UTC().Format(time.RFC3339)}
	} else {
		components["redis"] = map[string]any{"status": "disabled"}
	}
	if q, err := jobs.ReadStatus(ctx, s.store, s.clock.Now()); err == nil {
		components["queue"] = q.Queues
		components["scheduler"] = map[string]any{"lastRuns": q.LastRuns, "reminders": q.Reminders}
		components["deadLetters"] = q.DeadLetters
	} else {
		components["queue"] = map[string]string{"status": "unavailable"}
	}
	for _, h := range s.health {
		components[h.Name()] = h.Health(ctx)
	}
	return components
}

// Database is the database's state: up or down, its dialect and how long
// a ping took.
type Database struct {
	Status    string `json:"status"`
	Dialect   string `json:"dialect"`
	LatencyMs int64  `json:"latencyMs"`
}

// PingDatabase pings the database.
func (s *Service) PingDatabase(ctx context.Context) Database {
	db := Database{Status: "up", Dialect: string(s.store.Dialect())}
	start := time.Now()
	if err := s.store.Ping(ctx); err != nil {
		db.Status = "down"
	}
	db.LatencyMs = time.Since(start).Milliseconds()
	return db
}

// System is the state of every component.
type System struct {
	Database   Database       `json:"database"`
	Components map[string]any `json:"components"`
}

// System reports the database and every other component.
func (s *Service) System(ctx context.Context) System {
	return System{Database: s.PingDatabase(ctx), Components: s.Components(ctx)}
}

// Job is one job of the queue, without its arguments (which may carry
// personal data).
type Job struct {
	ID          int64      `json:"id"`
	Kind        string     `json:"kind"`
	Queue       string     `json:"queue"`
	State       string     `json:"state"`
	Attempt     int        `json:"attempt"`
	MaxAttempts int        `json:"maxAttempts"`
	CreatedAt   time.Time  `json:"createdAt"`
	ScheduledAt time.Time  `json:"scheduledAt"`
	FinalizedAt *time.Time `json:"finalizedAt"`
	// LastError is the last attempt's error, if it failed.
	LastError string `json:"lastError,omitempty"`
}

// JobFilter picks a page of jobs.
type JobFilter struct {
	Queue  string // "" for every queue
	State  string // a River job state; "" for available
	Limit  int
	Cursor string // from the previous page's NextCursor
}

// Jobs is the job queue's counts by queue and state (completed left out)
// and a page of the jobs one filter picks.
type Jobs struct {
	Counts []store.QueueDepth `json:"counts"`
	Queue  string             `json:"queue"`
	State  string             `json:"state"`
	Jobs   []Job              `json:"jobs"`
	// NextCursor fetches the next page; empty at the last.
	NextCursor string `json:"nextCursor"`
}

// JobStates are the states a job can be listed by.
func JobStates() []string {
	return []string{
		string(rivertype.JobStateAvailable), string(rivertype.JobStateRunning), string(rivertype.JobStateScheduled),
		string(rivertype.JobStateRetryable), string(rivertype.JobStatePending), string(rivertype.JobStateDiscarded),
		string(rivertype.JobStateCancelled), string(rivertype.JobStateCompleted),
	}
}

// Queues are the queues jobs can be listed by.
func Queues() []string {
	return []string{
		jobs.QueueMedicationReminders, jobs.QueueAppointmentReminders, jobs.QueueShiftReminders,
		jobs.QueueNotifications, jobs.QueueRefillAlerts, jobs.QueueDocumentUpload, jobs.QueueDeadLetter,
	}
}

// ListJobs counts the queue's jobs and lists a page of those f picks.
func (s *Service) ListJobs(ctx context.Context, f JobFilter) (Jobs, error) {
	if f.State == "" {
		f.State = string(rivertype.JobStateAvailable)
	}
	if states := JobStates(); !slices.Contains(states, f.State) {
		return Jobs{}, badRequest("state must be one of %s", strings.Join(states, ", "))
	}
	if queues := Queues(); f.Queue != "" && !slices.Contains(queues, f.Queue) {
		return Jobs{}, badRequest("queue must be one of %s", strings.Join(queues, ", "))
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	out := Jobs{Queue: f.Queue, State: f.State, Jobs: []Job{}}
	var err error
	if out.Counts, err = s.store.QueueDepths(ctx); err != nil {
		return out, err
	}
	if s.jobs == nil {
		return out, nil
	}
	params := river.NewJobListParams().States(rivertype.JobState(f.State)).First(f.Limit)
	if f.Queue != "" {
		params = params.Queues(f.Queue)
	}
	if f.Cursor != "" {
		var c river.JobListCursor
		if err := c.UnmarshalText([]byte(f.Cursor)); err != nil {
			return out, badRequest("cursor is not one this list gave")
		}
		params = params.After(&c)
	}
	res, err := s.jobs.JobList(ctx, params)
	if err != nil {
		return out, fmt.Errorf("operator: list jobs: %w", err)
	}
	for _, j := range res.Jobs {
		job := Job{ID: j.ID, Kind: j.Kind, Queue: j.Queue, State: string(j.State), Attempt: j.Attempt,
			MaxAttempts: j.MaxAttempts, CreatedAt: j.CreatedAt.UTC(), ScheduledAt: j.ScheduledAt.UTC(), FinalizedAt: j.FinalizedAt}
		if n := len(j.Errors); n > 0 {
			job.LastError = j.Errors[n-1].Error
		}
		out.Jobs = append(out.Jobs, job)
	}
	if len(res.Jobs) == f.Limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err != nil {
			return out, fmt.Errorf("operator: job cursor: %w", err)
		}
		out.NextCursor = string(b)
	}
	return out, nil
}

// DeadLetters is a page of dead letters, newest first, with how many are
// waiting (not retried).
type DeadLetters struct {
	Open  int                `json:"open"`
	Items []store.DeadLetter `json:"items"`
}

// ListDeadLetters lists a page of dead letters.
func (s *Service) ListDeadLetters(ctx context.Context, limit, offset int) (DeadLetters, error) {
	var out DeadLetters
	var err error
	if out.Open, _, err = s.store.CountDeadLetters(ctx, s.clock.Now()); err != nil {
		return out, err
	}
	out.Items, err = s.store.DeadLetters(ctx, limit, offset)
	return out, err
}

// LedgerWindow is what the reminder ledger shows of a window of time (see
// store.LedgerWindow).
type LedgerWindow = store.LedgerWindow

// LedgerLastHour summarises the reminders due in the last hour.
func (s *Service) LedgerLastHour(ctx context.Context) (store.LedgerWindow, error) {
	now := s.clock.Now()
	return s.store.LedgerWindow(ctx, now.Add(-time.Hour), now)
}

// ClassUse is one email class's use of a provider today.
type ClassUse struct {
	Class string `json:"class"`
	// Sent counts today's messages of the class the provider took.
	Sent int `json:"sent"`
	// Ceiling is how far the day's count may go for the class; nil when the
	// provider is unmetered.
	Ceiling *int64 `json:"ceiling"`
}

// ProviderQuota is one email provider's use of its daily quota.
type ProviderQuota struct {
	Provider string `json:"provider"`
	Metered  bool   `json:"metered"`
	// Used and Limit are the quota's count and limit for today; Status is
	// "unavailable" when the count could not be read.
	Used    int64      `json:"used"`
	Limit   int64      `json:"limit"`
	Reserve int64      `json:"reserve"`
	Status  string     `json:"status"`
	Classes []ClassUse `json:"classes"`
}

// EmailQuota is every provider's use of the UTC day, and the mail no
// provider took (deferred to a later day, or downgraded to push and
// in-app) by class.
type EmailQuota struct {
	Day        string          `json:"day"`
	Providers  []ProviderQuota `json:"providers"`
	Deferred   map[string]int  `json:"deferred"`
	Downgraded map[string]int  `json:"downgraded"`
}

// EmailQuota reports today's email use per provider and class.
func (s *Service) EmailQuota(ctx context.Context) (EmailQuota, error) {
	now := s.clock.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	out := EmailQuota{Day: day.Format(time.DateOnly), Providers: []ProviderQuota{}, Deferred: map[string]int{}, Downgraded: map[string]int{}}
	counts, err := s.store.EmailCountsSince(ctx, day)
	if err != nil {
		return out, err
	}
	sent := map[string]map[string]int{} // provider → class → sent
	for _, c := range counts {
		class := className(c.Priority)
		switch {
		case c.Status == string(mail.StatusSent) && c.Provider != "":
			if sent[c.Provider] == nil {
				sent[c.Provider] = map[string]int{}
			}
			sent[c.Provider][class] += c.Count
		case c.Status == string(mail.StatusDeferred):
			out.Deferred[class] += c.Count
		case c.Status == string(mail.StatusDowngraded):
			out.Downgraded[class] += c.Count
		}
	}
	if s.mail == nil {
		return out, nil
	}
	for _, p := range s.mail.Providers {
		pq := ProviderQuota{Provider: p.Name, Metered: !p.Unmetered && s.mail.Quota != nil, Status: "ok"}
		var ceilings map[string]int64
		if pq.Metered {
			u, err := s.mail.Quota.Usage(ctx, p.Name)
			if err != nil {
				pq.Status = "unavailable"
			} else {
				pq.Used, pq.Limit, pq.Reserve, ceilings = u.Used, u.Limit, u.Reserve, u.Ceilings
			}
		}
		for _, prio := range mail.Priorities {
			cu := ClassUse{Class: prio.Class(), Sent: sent[p.Name][prio.Class()]}
			if c, ok := ceilings[prio.Class()]; ok {
				cu.Ceiling = &c
			}
			pq.Classes = append(pq.Classes, cu)
		}
		out.Providers = append(out.Providers, pq)
	}
	return out, nil
}

// className is the email class of a recorded priority.
func className(priority string) string {
	for _, p := range mail.Priorities {
		if p.String() == priority {
			return p.Class()
		}
	}
	return priority
}

// Users is a page of accounts matching a search.
type Users struct {
	Query  string `json:"query"`
	Total  int    `json:"total"`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Items  []User `json:"items"`
}

// User is an account as the operator sees it: who, in what state, with
// which system role, and when they last signed in.
type User struct {
	ID            string          `json:"id"`
	Email         string          `json:"email"`
	FullName      string          `json:"fullName"`
	Status        care.UserStatus `json:"status"`
	SystemRole    care.SystemRole `json:"systemRole"`
	EmailVerified bool            `json:"emailVerified"`
	LastLoginAt   *time.Time      `json:"lastLoginAt"`
	CreatedAt     time.Time       `json:"createdAt"`
}

// UserOf is the operator's view of an account.
func UserOf(u *care.User) User {
	return User{ID: u.ID, Email: u.Email, FullName: u.FullName, Status: u.Status, SystemRole: u.SystemRole,
		EmailVerified: u.EmailVerified, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt}
}

// SearchUsers lists the accounts whose email or name contains q.
func (s *Service) SearchUsers(ctx context.Context, q string, limit, offset int) (Users, error) {
	if len(q) > 200 {
		return Users{}, badRequest("q is longer than 200 characters")
	}
	users, total, err := s.store.SearchUsers(ctx, q, limit, offset)
	if err != nil {
		return Users{}, err
	}
	out := Users{Query: q, Total: total, Limit: limit, Offset: offset, Items: make([]User, 0, len(users))}
	for i := range users {
		out.Items = append(out.Items, UserOf(&users[i]))
	}
	return out, nil
}

// ComponentSummary is one line of the system's state for a page: the
// component, its status ("up", "down", "degraded", "disabled"; empty when
// it has none) and the rest of what it reports, compacted.
type ComponentSummary struct {
	Name   string
	Status string
	Detail string
}

// Summarise lists the system's components for a page, those an operator
// looks at first first.
func Summarise(sys System) []ComponentSummary {
	componentOrder := []string{"database", "redis", "rabbitmq", "realtime", "outbox", "queue", "deadLetters", "scheduler", "emailQuota"}
	all := map[string]any{"database": sys.Database}
	for k, v := range sys.Components {
		all[k] = v
	}
	names := make([]string, 0, len(all))
	for k := range all {
		names = append(names, k)
	}
	rank := func(n string) int {
		if i := slices.Index(componentOrder, n); i >= 0 {
			return i
		}
		return len(componentOrder)
	}
	slices.SortFunc(names, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	out := make([]ComponentSummary, 0, len(names))
	for _, n := range names {
		if n == "scheduler" {
			out = append(out, schedulerSummary(all[n]))
			continue
		}
		b, err := json.Marshal(all[n])
		if err != nil {
			continue
		}
		c := ComponentSummary{Name: n}
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			if st, ok := m["status"].(string); ok {
				c.Status = st
				delete(m, "status")
				b, _ = json.Marshal(m)
			}
		}
		c.Detail = string(b)
		if c.Detail == "{}" || c.Detail == "null" {
			c.Detail = ""
		}
		if len(c.Detail) > 300 {
			c.Detail = strings.ToValidUTF8(c.Detail[:297], "") + "..."
		}
		out = append(out, c)
	}
	return out
}

// schedulerSummary says when each periodic job last ran and how it went.
func schedulerSummary(v any) ComponentSummary {
	c := ComponentSummary{Name: "scheduler"}
	m, ok := v.(map[string]any)
	if !ok {
		return c
	}
	runs, _ := m["lastRuns"].([]store.JobRun)
	parts := make([]string, 0, len(runs))
	for _, r := range runs {
		parts = append(parts, fmt.Sprintf("%s %s at %s", r.Job, r.Status, r.StartedAt.UTC().Format("15:04:05Z")))
	}
	c.Detail = strings.Join(parts, "; ")
	return c
}
