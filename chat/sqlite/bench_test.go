package sqlite_test

import (
	"context"
	"testing"

	"switchboard/chat"
	"switchboard/chat/sqlite"
)

// BenchmarkCreateMessage stores one chat message per iteration (what every
// post costs, one writer at a time).
func BenchmarkCreateMessage(b *testing.B) {
	ctx := context.Background()
	db := MustOpenDB(b)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(b, db, &chat.User{Username: "writer", PasswordHash: []byte("h")})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.CreateMessage(ctx, &chat.Message{UserID: u.ID, Text: "hello, world"}); err != nil {
			b.Fatal(err)
		}
	}
}
