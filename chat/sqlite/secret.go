package sqlite

import (
	"context"
	"crypto/rand"
	"fmt"
)

// Secret returns the random secret called name, creating it with size bytes
// on first use, so that it stays the same across restarts (and across
// processes sharing the database: the first one to create it wins).
func (db *DB) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if size <= 0 {
		return nil, fmt.Errorf("sqlite: secret %q: size %d", name, size)
	}
	fresh := make([]byte, size)
	rand.Read(fresh) // never fails (crypto/rand panics instead)
	if _, err := db.db.ExecContext(ctx,
		`INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, fresh, formatTime(db.Now())); err != nil {
		return nil, fmt.Errorf("sqlite: create secret %q: %w", name, err)
	}
	var value []byte
	if err := db.db.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("sqlite: read secret %q: %w", name, err)
	}
	return value, nil
}
