package mail

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/carecircle/carecircle/internal/clock"
)

// warnings collects the quota warnings a test receives.
type warnings struct {
	mu  sync.Mutex
	got []QuotaWarning
}

func (w *warnings) add(_ context.Context, qw QuotaWarning) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.got = append(w.got, qw)
}

func (w *warnings) list() []QuotaWarning {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]QuotaWarning(nil), w.got...)
}

func TestQuotaKeepsAReserveForEmergencies(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC))
	var warned warnings
	q := NewQuota(QuotaConfig{OnWarning: warned.add}, NewMemoryCounter(clk), clk)

	// Defaults: 300 a day, 30 kept for emergencies, a warning at 240.
	routine := 0
	for {
		ok, err := q.Reserve(ctx, "brevo", PriorityRoutine)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		routine++
		if w := warned.list(); routine < 240 && len(w) != 0 || routine >= 240 && len(w) != 1 {
			t.Fatalf("after %d messages, warnings = %v", routine, w)
		}
	}
	if routine != 270 {
		t.Fatalf("routine mail allowed = %d, want 270", routine)
	}
	// Refused routine mail takes nothing from the reserve.
	for range 5 {
		if ok, _ := q.Reserve(ctx, "brevo", PriorityRoutine); ok {
			t.Fatal("routine mail allowed into the reserve")
		}
	}
	emergencies := 0
	for {
		ok, err := q.Reserve(ctx, "brevo", PriorityEmergency)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		emergencies++
	}
	if emergencies != 30 {
		t.Fatalf("emergencies from the reserve = %d, want 30", emergencies)
	}
	want := QuotaWarning{Provider: "brevo", Day: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), Used: 240, Limit: 300}
	if w := warned.list(); len(w) != 1 || w[0] != want {
		t.Fatalf("warnings = %v, want once %v", w, want)
	}
	if u, err := q.Usage(ctx, "brevo"); err != nil || u.Used != 300 || u.Limit != 300 || u.Reserve != 30 {
		t.Fatalf("usage = %+v, %v", u, err)
	}
	// Another provider has its own budget.
	if ok, _ := q.Reserve(ctx, "smtp", PriorityRoutine); !ok {
		t.Fatal("smtp shares brevo's quota")
	}

	// Past midnight UTC the day starts afresh, with its own warning.
	clk.Set(NextDay(clk.Now()))
	if ok, _ := q.Reserve(ctx, "brevo", PriorityRoutine); !ok {
		t.Fatal("quota did not roll over at midnight UTC")
	}
	if u, _ := q.Usage(ctx, "brevo"); u.Used != 1 || !u.Day.Equal(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("usage on the new day = %+v", u)
	}
	for range 239 {
		q.Reserve(ctx, "brevo", PriorityRoutine)
	}
	if w := warned.list(); len(w) != 2 || !w[1].Day.Equal(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("warnings on the second day = %v", w)
	}
}

func TestQuotaRoundsSmallLimits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, c := range []struct {
		cfg              QuotaConfig
		routine, reserve int
	}{
		{QuotaConfig{Limit: 10}, 8, 2}, // at least one each for transactional and critical mail
		{QuotaConfig{Limit: 5}, 3, 2},
		{QuotaConfig{Limit: 5, ReservePercent: -1}, 5, 0},
		{QuotaConfig{Limit: 100, ReservePercent: 25}, 75, 25},
		{QuotaConfig{Limit: 1}, 0, 1},
	} {
		clk := clock.NewFake(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC))
		q := NewQuota(c.cfg, NewMemoryCounter(clk), clk)
		routine, reserve := 0, 0
		for {
			if ok, _ := q.Reserve(ctx, "p", PriorityRoutine); !ok {
				break
			}
			routine++
		}
		for {
			if ok, _ := q.Reserve(ctx, "p", PriorityEmergency); !ok {
				break
			}
			reserve++
		}
		if routine != c.routine || reserve != c.reserve {
			t.Errorf("%+v: routine %d, reserve %d; want %d, %d", c.cfg, routine, reserve, c.routine, c.reserve)
		}
	}
}

// failingCounter is a Counter whose store is down.
type failingCounter struct{}

var errCounterDown = errors.New("counter down")

func (failingCounter) Incr(context.Context, string, time.Duration) (int64, error) {
	return 0, errCounterDown
}
func (failingCounter) IncrBelow(context.Context, string, int64, time.Duration) (int64, bool, error) {
	return 0, false, errCounterDown
}
func (failingCounter) Get(context.Context, string) (int64, error) { return 0, errCounterDown }

func TestQuotaReportsCounterFailure(t *testing.T) {
	t.Parallel()
	q := NewQuota(QuotaConfig{}, failingCounter{}, clock.Real{})
	if _, err := q.Reserve(context.Background(), "brevo", PriorityRoutine); !errors.Is(err, errCounterDown) {
		t.Fatalf("err = %v", err)
	}
}

func TestNextDay(t *testing.T) {
	t.Parallel()
	tokyo := time.FixedZone("JST", 9*3600)
	for _, c := range []struct{ now, want time.Time }{
		{time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 3, 9, 23, 59, 59, 999, time.UTC), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
		{time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC), time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		// 08:00 in Tokyo on the 10th is still the 9th in UTC.
		{time.Date(2026, 3, 10, 8, 0, 0, 0, tokyo), time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)},
	} {
		if got := NextDay(c.now); !got.Equal(c.want) || got.Location() != time.UTC {
			t.Errorf("NextDay(%v) = %v, want %v", c.now, got, c.want)
		}
	}
}

func TestMemoryCounterExpires(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 12, 0, 0, 0, time.UTC))
	c := NewMemoryCounter(clk)
	for want := int64(1); want <= 3; want++ {
		if n, err := c.Incr(ctx, "k", time.Hour); err != nil || n != want {
			t.Fatalf("Incr = %d, %v; want %d", n, err, want)
		}
		clk.Advance(10 * time.Minute) // later increments keep the first expiry
	}
	if n, _ := c.Get(ctx, "k"); n != 3 {
		t.Fatalf("Get = %d", n)
	}
	if n, _ := c.Get(ctx, "other"); n != 0 {
		t.Fatalf("Get(missing) = %d", n)
	}
	clk.Advance(30 * time.Minute)
	if n, _ := c.Get(ctx, "k"); n != 0 {
		t.Fatalf("Get after ttl = %d", n)
	}
	if n, _ := c.Incr(ctx, "k", time.Hour); n != 1 {
		t.Fatalf("Incr after ttl = %d", n)
	}
}

// TestQuotaClasses: with a limit of 10, routine mail stops at 8, a code
// (transactional) still fits once, an emergency once more; the next UTC day
// starts afresh.
func TestQuotaClasses(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clk := clock.NewFake(time.Date(2026, 3, 9, 23, 0, 0, 0, time.UTC))
	q := NewQuota(QuotaConfig{Limit: 10}, NewMemoryCounter(clk), clk)
	count := func(p Priority) int {
		n := 0
		for {
			ok, err := q.Reserve(ctx, "smtp", p)
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				return n
			}
			n++
		}
	}
	if n := count(PriorityRoutine); n != 8 {
		t.Errorf("routine mail sent %d, want 8", n)
	}
	if n := count(PriorityTransactional); n != 1 {
		t.Errorf("transactional mail after routine spent its share: %d, want 1", n)
	}
	if n := count(PriorityEmergency); n != 1 {
		t.Errorf("emergencies after transactional mail spent its share: %d, want 1", n)
	}
	u, err := q.Usage(ctx, "smtp")
	if err != nil {
		t.Fatal(err)
	}
	if u.Used != 10 || u.Ceilings["routine"] != 8 || u.Ceilings["transactional"] != 9 || u.Ceilings["critical"] != 10 {
		t.Errorf("usage %+v", u)
	}
	clk.Advance(time.Hour) // midnight UTC
	if ok, _ := q.Reserve(ctx, "smtp", PriorityRoutine); !ok {
		t.Error("routine mail refused on a new UTC day")
	}
}
