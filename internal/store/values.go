package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// timeLayout is the fixed-width UTC form timestamps are written in. SQLite
// keeps it as text, which then sorts by time; PostgreSQL parses it into
// timestamptz.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// ts formats a time for a query argument.
func ts(t time.Time) string { return t.UTC().Format(timeLayout) }

// timeCol scans a timestamp from either dialect.
type timeCol struct{ dst *time.Time }

func (c timeCol) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("store: unexpected NULL timestamp")
	}
	*c.dst = *t
	return nil
}

// nullTimeCol scans an optional timestamp from either dialect.
type nullTimeCol struct{ dst **time.Time }

func (c nullTimeCol) Scan(src any) error {
	t, err := parseTime(src)
	if err != nil {
		return err
	}
	*c.dst = t
	return nil
}

func parseTime(src any) (*time.Time, error) {
	var t time.Time
	switch v := src.(type) {
	case nil:
		return nil, nil
	case time.Time:
		t = v
	case string:
		p, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, fmt.Errorf("store: parse timestamp %q: %w", v, err)
		}
		t = p
	case []byte:
		p, err := time.Parse(time.RFC3339Nano, string(v))
		if err != nil {
			return nil, fmt.Errorf("store: parse timestamp %q: %w", v, err)
		}
		t = p
	default:
		return nil, fmt.Errorf("store: cannot scan %T into a timestamp", src)
	}
	t = t.UTC()
	return &t, nil
}

// jsonCol scans a JSON column into dst; NULL leaves dst unchanged.
type jsonCol struct{ dst any }

func (c jsonCol) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("store: cannot scan %T into JSON", src)
	}
	if raw, ok := c.dst.(*json.RawMessage); ok {
		*raw = append(json.RawMessage(nil), b...)
		return nil
	}
	return json.Unmarshal(b, c.dst)
}

// jsonArg encodes v as JSON text for a query argument.
func jsonArg(v any) driver.Value {
	if raw, ok := v.(json.RawMessage); ok {
		if len(raw) == 0 {
			return "{}"
		}
		return string(raw)
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only domain values reach here; they always marshal.
		panic(fmt.Sprintf("store: encode JSON argument: %v", err))
	}
	return string(b)
}

// stringsArg encodes a string list, treating nil as empty.
func stringsArg(v []string) driver.Value {
	if v == nil {
		v = []string{}
	}
	return jsonArg(v)
}

// prefixed qualifies a comma-separated column list with a table alias.
func prefixed(alias, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
