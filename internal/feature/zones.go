package feature

import (
	"sync"
	"time"
)

// zones keeps the time zones the node has loaded, by IANA name: loading one
// opens and parses a file of the zone database, which cost a schedule read
// more than its queries. Only zones that loaded are kept, so there are at
// most as many as the database has.
type zones struct {
	byName sync.Map // string → *time.Location
}

// Location returns the IANA time zone name, loaded once per node.
func (b *Base) Location(name string) (*time.Location, error) {
	if loc, ok := b.zones.byName.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	b.zones.byName.Store(name, loc)
	return loc, nil
}
