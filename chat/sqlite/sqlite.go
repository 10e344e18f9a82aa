// Package sqlite stores the chat's users, sessions and messages in an
// embedded SQLite database (modernc.org/sqlite, pure Go, no cgo).
//
// The database runs in WAL mode with a busy timeout and foreign keys on.
// Its schema is a numbered list of embedded SQL files applied once each, in
// order, and recorded in the schema_migrations table.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migration/*.sql
var migrationFS embed.FS

// timeLayout stores times as fixed-width UTC text, so that they sort and
// compare correctly as strings and stay readable in the sqlite3 shell.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// BusyTimeout is how long a statement waits for another connection's write
// lock before failing with SQLITE_BUSY.
const BusyTimeout = 5 * time.Second

// DB is the SQLite database shared by the services of this package.
type DB struct {
	db    *sql.DB
	stmts sync.Map // query text → *sql.Stmt, prepared on first use

	// Path is the database file; ":memory:" for a private in-memory
	// database (which holds one connection only).
	Path string

	// Now is the clock used for creation times and session expiry. Set it
	// before Open; tests replace it.
	Now func() time.Time
}

// NewDB returns a DB for the file at path. Call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open opens the database, creating the file and its directory if needed,
// and applies pending migrations.
func (db *DB) Open(ctx context.Context) (err error) {
	if db.Path == "" {
		return errors.New("sqlite: no database path")
	}
	if strings.ContainsRune(db.Path, '?') {
		return fmt.Errorf("sqlite: database path %q may not contain '?'", db.Path)
	}
	memory := db.Path == ":memory:"
	if !memory {
		if err := os.MkdirAll(filepath.Dir(db.Path), 0o755); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	params := fmt.Sprintf("_busy_timeout=%d&_foreign_keys=1&_synchronous=NORMAL&_txlock=immediate",
		BusyTimeout.Milliseconds())
	if !memory {
		params += "&_journal_mode=WAL"
	}
	if db.db, err = sql.Open("sqlite", db.Path+"?"+params); err != nil {
		return fmt.Errorf("sqlite: open %s: %w", db.Path, err)
	}
	// A bounded pool that keeps its connections: without it, bursts of
	// concurrent queries (a wave of sockets authenticating) opened new
	// connections and closed them again beyond database/sql's 2 idle ones —
	// a third of the CPU of connecting a socket went to opening SQLite.
	conns := max(4, runtime.GOMAXPROCS(0))
	if memory {
		conns = 1 // every connection to ":memory:" is a different database
	}
	db.db.SetMaxOpenConns(conns)
	db.db.SetMaxIdleConns(conns)
	if err := db.migrate(ctx); err != nil {
		db.db.Close()
		return fmt.Errorf("sqlite: migrate %s: %w", db.Path, err)
	}
	return nil
}

// Close closes the database. It is safe to call on a DB that failed to open.
func (db *DB) Close() error {
	if db.db == nil {
		return nil
	}
	db.stmts.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		db.stmts.Delete(k)
		return true
	})
	return db.db.Close()
}

// Stats returns the connection pool's statistics (for metrics and tests).
func (db *DB) Stats() sql.DBStats { return db.db.Stats() }

// stmt returns the prepared statement for query, preparing it on first use:
// the queries a request or a socket runs are parsed once per connection,
// not on every call (parsing was the other half of a socket's connect).
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := db.stmts.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := db.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// queryRow runs a prepared single-row query; a preparation error comes out
// of Scan like any other.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return db.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a prepared query.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// exec runs a prepared statement.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// migrate applies, in name order, every embedded migration not yet recorded
// in schema_migrations. A database that has migrations this program does not
// know is refused rather than used with a schema it cannot understand.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.db.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrationFS, "migration/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	known := make(map[string]bool, len(names))
	for _, name := range names {
		known[filepath.Base(name)] = true
	}
	applied, err := db.appliedMigrations(ctx)
	if err != nil {
		return err
	}
	for _, name := range applied {
		if !known[name] {
			return fmt.Errorf("database has migration %q unknown to this program (is it newer?)", name)
		}
	}
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func (db *DB) appliedMigrations(ctx context.Context) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT name FROM schema_migrations ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		names = append(names, n)
	}
	return names, rows.Err()
}

// migrateFile applies one migration in its own transaction, unless it is
// already recorded. The transaction takes the write lock first, so two
// processes opening the same new file apply each migration once.
func (db *DB) migrateFile(ctx context.Context, path string) error {
	name := filepath.Base(path)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()

	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = ?`, name).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	script, err := fs.ReadFile(migrationFS, path)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(script)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)`,
		name, formatTime(db.Now())); err != nil {
		return err
	}
	return tx.Commit()
}

// Ping reports whether the database answers a query: nil when it does, an
// error when it is closed, unreadable or busy past ctx.
func (db *DB) Ping(ctx context.Context) error {
	if db.db == nil {
		return errors.New("sqlite: database not open")
	}
	var one int
	if err := db.queryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// JournalMode returns the database's journal mode ("wal" for a file).
func (db *DB) JournalMode(ctx context.Context) (string, error) {
	var mode string
	err := db.db.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode)
	return mode, err
}

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// nullTime parses a nullable time column; NULL is the zero time.
func nullTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return parseTime(s.String)
}

// sqliteCode returns the extended result code of a SQLite error, or 0.
func sqliteCode(err error) int {
	var se *msqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

func isUnique(err error) bool     { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_UNIQUE }
func isForeignKey(err error) bool { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY }
func isPrimaryKey(err error) bool { return sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY }

// rowScanner is *sql.Row or *sql.Rows.
type rowScanner interface{ Scan(dest ...any) error }
