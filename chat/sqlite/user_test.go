package sqlite_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/chat/sqlite"
)

func newUser(name string) *chat.User {
	return &chat.User{Username: name, PasswordHash: []byte("$2a$04$hash-of-" + name)}
}

func MustCreateUser(tb testing.TB, db *sqlite.DB, u *chat.User) *chat.User {
	tb.Helper()
	if err := sqlite.NewUserService(db).CreateUser(context.Background(), u); err != nil {
		tb.Fatal(err)
	}
	return u
}

func TestCreateAndFindUser(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewUserService(db)

	u := &chat.User{Username: "Alice_01", Name: "Alice Ångström 🚀", PasswordHash: []byte{0, 1, 2, 255}}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if u.ID == 0 || !u.CreatedAt.Equal(testNow) {
		t.Errorf("after create: ID=%d CreatedAt=%v", u.ID, u.CreatedAt)
	}

	byID, err := s.FindUserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	byName, err := s.FindUserByUsername(ctx, "aLICE_01")
	if err != nil {
		t.Fatalf("case-insensitive lookup: %v", err)
	}
	for _, got := range []*chat.User{byID, byName} {
		if got.ID != u.ID || got.Username != "Alice_01" || got.Name != "Alice Ångström 🚀" ||
			!bytes.Equal(got.PasswordHash, u.PasswordHash) || got.GitHubID != 0 ||
			got.LoginCount != 0 || !got.LastLoginAt.IsZero() || !got.CreatedAt.Equal(testNow) {
			t.Errorf("found %+v, want what was created %+v", got, u)
		}
	}
}

func TestFindUserNotFound(t *testing.T) {
	ctx := context.Background()
	s := sqlite.NewUserService(MustOpenDB(t))
	if _, err := s.FindUserByID(ctx, 42); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("by id: %v", err)
	}
	if _, err := s.FindUserByUsername(ctx, "nobody"); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("by username: %v", err)
	}
	if _, err := s.FindUserByGitHubID(ctx, 0); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("by github id 0: %v", err)
	}
	if _, err := s.FindUserByGitHubID(ctx, 99); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("by github id: %v", err)
	}
}

func TestUsernamesAreUniqueIgnoringCase(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewUserService(db)
	MustCreateUser(t, db, newUser("Bob"))
	for _, name := range []string{"Bob", "bob", "BOB", "bOb"} {
		err := s.CreateUser(ctx, newUser(name))
		if chat.ErrorCode(err) != chat.ECONFLICT {
			t.Errorf("CreateUser(%q) = %v, want ECONFLICT", name, err)
		}
	}
	if got, _ := s.FindUserByUsername(ctx, "BOB"); got == nil || got.Username != "Bob" {
		t.Errorf("the original spelling should be kept, got %+v", got)
	}
}

func TestCreateUserValidates(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewUserService(db)
	bad := []*chat.User{
		newUser("ab"),
		newUser("robert'); DROP TABLE users;--"),
		newUser("<script>alert(1)</script>"),
		newUser("名前名前"),
		{Username: "nopassword"},
		{Username: "badname", Name: "x\x00y", PasswordHash: []byte("h")},
	}
	for _, u := range bad {
		if err := s.CreateUser(ctx, u); chat.ErrorCode(err) != chat.EINVALID {
			t.Errorf("CreateUser(%+v) = %v, want EINVALID", u, err)
		}
	}
	var n int
	rawDB(t, db.Path).QueryRow(`SELECT COUNT(*) FROM users`).Scan(&n)
	if n != 0 {
		t.Errorf("%d invalid users stored", n)
	}
}

func TestDisplayNamesAreStoredVerbatim(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewUserService(db)
	names := []string{
		`Robert'); DROP TABLE users;--`,
		`<script>alert("x")</script>`,
		`" OR 1=1 --`,
		"日本語の名前",
		"emoji 👩🏽‍💻",
	}
	for i, name := range names {
		u := &chat.User{Username: "user" + string(rune('a'+i)), Name: name, PasswordHash: []byte("h")}
		if err := s.CreateUser(ctx, u); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		got, err := s.FindUserByID(ctx, u.ID)
		if err != nil || got.Name != name {
			t.Errorf("stored %q, read back %q (%v)", name, got.Name, err)
		}
	}
}

func TestGitHubUsers(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewUserService(db)

	gh := &chat.User{Username: "octocat", Name: "The Octocat", GitHubID: 583231}
	if err := s.CreateUser(ctx, gh); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindUserByGitHubID(ctx, 583231)
	if err != nil || got.ID != gh.ID || got.PasswordHash != nil {
		t.Fatalf("FindUserByGitHubID = %+v, %v", got, err)
	}
	dup := &chat.User{Username: "octocat-2", GitHubID: 583231}
	if err := s.CreateUser(ctx, dup); chat.ErrorCode(err) != chat.ECONFLICT {
		t.Errorf("second user with the same GitHub id: %v, want ECONFLICT", err)
	}

	local := MustCreateUser(t, db, newUser("local"))
	if err := s.LinkGitHub(ctx, local.ID, 583231, ""); chat.ErrorCode(err) != chat.ECONFLICT {
		t.Errorf("linking a taken GitHub account: %v, want ECONFLICT", err)
	}
	if err := s.LinkGitHub(ctx, local.ID, 1001, "  Local\x01 Hero "); err != nil {
		t.Fatal(err)
	}
	got, _ = s.FindUserByGitHubID(ctx, 1001)
	if got == nil || got.ID != local.ID || got.Name != "Local Hero" {
		t.Errorf("after link: %+v", got)
	}
	if err := s.LinkGitHub(ctx, 9999, 1002, ""); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("linking to a missing user: %v, want ENOTFOUND", err)
	}
	if err := s.LinkGitHub(ctx, local.ID, 0, ""); chat.ErrorCode(err) != chat.EINVALID {
		t.Errorf("linking github id 0: %v, want EINVALID", err)
	}
}

func TestRecordLogin(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewUserService(db)
	u := MustCreateUser(t, db, newUser("counter"))
	at := testNow.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if err := s.RecordLogin(ctx, u.ID, at); err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.FindUserByID(ctx, u.ID)
	if got.LoginCount != 3 || !got.LastLoginAt.Equal(at) {
		t.Errorf("LoginCount=%d LastLoginAt=%v", got.LoginCount, got.LastLoginAt)
	}
	if err := s.RecordLogin(ctx, 12345, at); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("RecordLogin for a missing user: %v", err)
	}
}
