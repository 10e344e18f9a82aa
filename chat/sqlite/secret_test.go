package sqlite_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"switchboard/chat/sqlite"
)

func TestSecretIsCreatedOnceAndSurvivesReopening(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.db")
	open := func() *sqlite.DB {
		db := sqlite.NewDB(path)
		if err := db.Open(ctx); err != nil {
			t.Fatal(err)
		}
		return db
	}
	db := open()
	a, err := db.Secret(ctx, "csrf", 32)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 32 || bytes.Equal(a, make([]byte, 32)) {
		t.Fatalf("secret %x: want 32 random bytes", a)
	}
	again, _ := db.Secret(ctx, "csrf", 32)
	other, _ := db.Secret(ctx, "another", 32)
	db.Close()
	if !bytes.Equal(a, again) {
		t.Error("a second call changed the secret")
	}
	if bytes.Equal(a, other) {
		t.Error("two names share a secret")
	}

	db = open()
	defer db.Close()
	after, err := db.Secret(ctx, "csrf", 32)
	if err != nil || !bytes.Equal(a, after) {
		t.Fatalf("after reopening: %x, %v; want the same secret", after, err)
	}
	if _, err := db.Secret(ctx, "bad", 0); err == nil {
		t.Error("size 0 accepted")
	}
}
