package chat

import (
	"context"
	"time"
)

// Session is a logged-in browser. ID is the session's key in the store; the
// web layer keeps the secret token in a cookie and stores only its hash, so
// a leaked database does not leak live sessions.
type Session struct {
	ID        string
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Expired reports whether the session is no longer valid at now.
func (s *Session) Expired(now time.Time) bool { return !now.Before(s.ExpiresAt) }

// SessionService stores sessions. Implementations are safe for concurrent
// use.
type SessionService interface {
	// CreateSession stores s. ECONFLICT if the id exists, EINVALID if the
	// user does not.
	CreateSession(ctx context.Context, s *Session) error
	// FindSessionByID returns the unexpired session with the given id, or
	// ENOTFOUND.
	FindSessionByID(ctx context.Context, id string) (*Session, error)
	// DeleteSession removes the session; deleting a missing session is not
	// an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes every session expired at now and
	// returns the ids of those removed.
	DeleteExpiredSessions(ctx context.Context, now time.Time) ([]string, error)
}
