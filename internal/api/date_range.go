package api

import (
	"net/url"
	"time"

	"github.com/carecircle/carecircle/internal/care"
)

// dateRange reads ?startDate and ?endDate, each an RFC 3339 instant or a
// date in loc, into a half-open range [from, to) that includes both bounds.
// Malformed bounds and a start after the end are recorded in p.
func (p Problems) dateRange(q url.Values, loc *time.Location) (from, to *time.Time) {
	if v := q.Get("startDate"); v != "" {
		if start, _, ok := rangeBound(v, loc); ok {
			from = &start
		} else {
			p.Add("startDate", "must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
	}
	if v := q.Get("endDate"); v != "" {
		if _, end, ok := rangeBound(v, loc); ok {
			to = &end
		} else {
			p.Add("endDate", "must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
	}
	if from != nil && to != nil && !from.Before(*to) {
		p.Add("startDate", "must not be after endDate")
	}
	return from, to
}

// rangeBound reads a range bound: an instant, or a local date. It returns
// where a range starting at v starts and where one ending at v ends
// (exclusive), so that both bounds include v.
func rangeBound(v string, loc *time.Location) (start, end time.Time, ok bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, t.Add(time.Microsecond), true // the store keeps microseconds
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, time.Time{}, false
	}
	midnight := care.ClockTime{}
	next := d.AddDate(0, 0, 1)
	return midnight.On(d.Year(), d.Month(), d.Day(), loc), midnight.On(next.Year(), next.Month(), next.Day(), loc), true
}
