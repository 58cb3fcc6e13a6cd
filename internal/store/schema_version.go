package store

import (
	"context"
	"database/sql"
	"fmt"
)

// LatestSchemaVersion is the newest migration this binary knows for d: a
// database whose schema is newer was written by a later release.
func LatestSchemaVersion(d Dialect) (int, error) {
	all, err := migrationsFor(d)
	if err != nil {
		return 0, err
	}
	if len(all) == 0 {
		return 0, nil
	}
	return all[len(all)-1].Version, nil
}

// SchemaVersion reports the newest migration applied to the database (0 when
// none has been).
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersionOf(ctx, s.r)
}

func schemaVersionOf(ctx context.Context, q querier) (int, error) {
	var v sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&v); err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return int(v.Int64), nil
}
