package sqlite_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/chat/sqlite"
)

func TestSessionLifecycle(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewSessionService(db)
	u := MustCreateUser(t, db, newUser("sessioned"))

	sess := &chat.Session{ID: "abc123", UserID: u.ID, ExpiresAt: testNow.Add(time.Hour)}
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if !sess.CreatedAt.Equal(testNow) {
		t.Errorf("CreatedAt = %v", sess.CreatedAt)
	}
	got, err := s.FindSessionByID(ctx, "abc123")
	if err != nil || got.UserID != u.ID || !got.ExpiresAt.Equal(sess.ExpiresAt) || !got.CreatedAt.Equal(testNow) {
		t.Fatalf("FindSessionByID = %+v, %v", got, err)
	}
	if err := s.CreateSession(ctx, &chat.Session{ID: "abc123", UserID: u.ID, ExpiresAt: testNow.Add(time.Hour)}); chat.ErrorCode(err) != chat.ECONFLICT {
		t.Errorf("duplicate id: %v, want ECONFLICT", err)
	}
	if err := s.DeleteSession(ctx, "abc123"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindSessionByID(ctx, "abc123"); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("after delete: %v, want ENOTFOUND", err)
	}
	if err := s.DeleteSession(ctx, "abc123"); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
}

func TestExpiredSessionsAreNotFoundAndSwept(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewSessionService(db)
	u := MustCreateUser(t, db, newUser("expiring"))
	for id, exp := range map[string]time.Time{
		"past":   testNow.Add(-time.Second),
		"now":    testNow,
		"future": testNow.Add(time.Second),
	} {
		if err := s.CreateSession(ctx, &chat.Session{ID: id, UserID: u.ID, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]string{"past": chat.ENOTFOUND, "now": chat.ENOTFOUND, "future": ""} {
		if _, err := s.FindSessionByID(ctx, id); chat.ErrorCode(err) != want {
			t.Errorf("FindSessionByID(%q) = %v, want code %q", id, err, want)
		}
	}
	ids, err := s.DeleteExpiredSessions(ctx, testNow)
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"now", "past"}) {
		t.Errorf("DeleteExpiredSessions = %q, %v; want now and past", ids, err)
	}
	if _, err := s.FindSessionByID(ctx, "future"); err != nil {
		t.Errorf("live session swept: %v", err)
	}
}

func TestCreateSessionValidates(t *testing.T) {
	ctx := context.Background()
	s := sqlite.NewSessionService(MustOpenDB(t))
	exp := testNow.Add(time.Hour)
	cases := map[string]*chat.Session{
		"no id":      {UserID: 1, ExpiresAt: exp},
		"no user":    {ID: "x", ExpiresAt: exp},
		"no expiry":  {ID: "x", UserID: 1},
		"ghost user": {ID: "x", UserID: 404, ExpiresAt: exp},
	}
	for name, sess := range cases {
		if err := s.CreateSession(ctx, sess); chat.ErrorCode(err) != chat.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}

func TestSessionIDsAreMatchedExactly(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewSessionService(db)
	u := MustCreateUser(t, db, newUser("exact"))
	if err := s.CreateSession(ctx, &chat.Session{ID: "AbC", UserID: u.ID, ExpiresAt: testNow.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"abc", "ABC", "' OR '1'='1", "%", "AbC "} {
		if _, err := s.FindSessionByID(ctx, id); chat.ErrorCode(err) != chat.ENOTFOUND {
			t.Errorf("FindSessionByID(%q) = %v, want ENOTFOUND", id, err)
		}
	}
}

func TestFindUserBySessionIDTakesOnlyLiveSessions(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	sessions := sqlite.NewSessionService(db)
	users := sqlite.NewUserService(db)
	u := MustCreateUser(t, db, newUser("joined"))
	for id, expires := range map[string]time.Time{"live": testNow.Add(time.Hour), "gone": testNow} {
		if err := sessions.CreateSession(ctx, &chat.Session{ID: id, UserID: u.ID, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := users.FindUserBySessionID(ctx, "live")
	if err != nil || got.ID != u.ID || got.Username != "joined" || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Fatalf("live session: %+v, %v", got, err)
	}
	for _, id := range []string{"gone", "unknown", ""} {
		if _, err := users.FindUserBySessionID(ctx, id); chat.ErrorCode(err) != chat.ENOTFOUND {
			t.Errorf("session %q: %v, want ENOTFOUND", id, err)
		}
	}
}
