package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	_ "modernc.org/sqlite"

	"switchboard/chat"
	"switchboard/chat/sqlite"
)

// testNow is the fixed clock of databases opened by MustOpenDB.
var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// MustOpenDB opens a new database in a temporary file (so WAL and several
// connections are exercised like in production) and closes it when the
// test ends. Its clock is fixed at testNow.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "test.db"))
	db.Now = func() time.Time { return testNow }
	if err := db.Open(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.Close(); err != nil {
			tb.Error(err)
		}
	})
	return db
}

func TestOpenUsesWALAndRecordsMigrations(t *testing.T) {
	db := MustOpenDB(t)
	mode, err := db.JournalMode(context.Background())
	if err != nil || mode != "wal" {
		t.Errorf("journal mode = %q, %v; want wal", mode, err)
	}

	raw := rawDB(t, db.Path)
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE name = '001_schema.sql'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("migration 001 recorded %d times, %v", n, err)
	}
}

func TestOpenTwiceAppliesMigrationsOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "again.db")
	for i := 0; i < 2; i++ {
		db := sqlite.NewDB(path)
		if err := db.Open(context.Background()); err != nil {
			t.Fatalf("open %d: %v", i+1, err)
		}
		db.Close()
	}
}

func TestOpenCreatesMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "chat.db")
	db := sqlite.NewDB(path)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()
}

func TestOpenRefusesDatabaseFromTheFuture(t *testing.T) {
	db := MustOpenDB(t)
	raw := rawDB(t, db.Path)
	if _, err := raw.Exec(`INSERT INTO schema_migrations (name, applied_at) VALUES ('999_future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	again := sqlite.NewDB(db.Path)
	err := again.Open(context.Background())
	if err == nil || !strings.Contains(err.Error(), "999_future.sql") {
		t.Errorf("Open = %v, want refusal naming the unknown migration", err)
	}
	again.Close()
}

func TestOpenRejectsBadPaths(t *testing.T) {
	for _, p := range []string{"", "chat.db?mode=ro"} {
		db := sqlite.NewDB(p)
		if err := db.Open(context.Background()); err == nil {
			t.Errorf("Open(%q) succeeded", p)
			db.Close()
		}
	}
}

func TestInMemoryDatabaseWorks(t *testing.T) {
	db := sqlite.NewDB(":memory:")
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	users := sqlite.NewUserService(db)
	u := newUser("memory")
	if err := users.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	if _, err := users.FindUserByID(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
}

func TestCloseWithoutOpenIsFine(t *testing.T) {
	if err := sqlite.NewDB("x.db").Close(); err != nil {
		t.Error(err)
	}
}

// rawDB opens a second, plain connection pool on the file for checks that
// the services do not expose.
func rawDB(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	raw, err := sql.Open("sqlite", path+"?_busy_timeout=5000")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { raw.Close() })
	return raw
}

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// A burst of concurrent queries reuses a bounded set of connections instead
// of opening (and closing) one per query.
func TestConcurrentQueriesReuseABoundedPool(t *testing.T) {
	db := MustOpenDB(t)
	users := sqlite.NewUserService(db)
	sessions := sqlite.NewSessionService(db)
	ctx := context.Background()
	u := &chat.User{Username: "pool", PasswordHash: []byte("x")}
	if err := users.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := &chat.Session{ID: "s1", UserID: u.ID, CreatedAt: testNow, ExpiresAt: testNow.Add(time.Hour)}
	if err := sessions.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64*20)
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := sessions.FindSessionByID(ctx, "s1"); err != nil {
					errs <- err
				}
				if _, err := users.FindUserByID(ctx, u.ID); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st := db.Stats()
	if limit := max(4, runtime.GOMAXPROCS(0)); st.MaxOpenConnections != limit || st.OpenConnections > limit {
		t.Fatalf("pool: max %d, open %d; want at most %d", st.MaxOpenConnections, st.OpenConnections, limit)
	}
	if st.MaxIdleClosed > 0 {
		t.Fatalf("%d connections were closed for lack of idle room (opened again and again)", st.MaxIdleClosed)
	}
}

func TestPingAnswersWhileTheDatabaseIsOpen(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "ping.db"))
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping before Open: no error")
	}
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err != nil {
		t.Errorf("Ping on an open database: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(ctx); err == nil {
		t.Error("Ping after Close: no error")
	}
}
