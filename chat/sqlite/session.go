package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"switchboard/chat"
)

// SessionService implements chat.SessionService.
type SessionService struct {
	db *DB
}

var _ chat.SessionService = (*SessionService)(nil)

// NewSessionService returns a SessionService backed by db.
func NewSessionService(db *DB) *SessionService { return &SessionService{db: db} }

// CreateSession stores s, setting s.CreatedAt if it is zero.
func (s *SessionService) CreateSession(ctx context.Context, sess *chat.Session) error {
	if sess.ID == "" || sess.UserID == 0 || sess.ExpiresAt.IsZero() {
		return chat.Errorf(chat.EINVALID, "A session needs an id, a user and an expiry.")
	}
	if sess.CreatedAt.IsZero() {
		sess.CreatedAt = s.db.Now().UTC()
	}
	_, err := s.db.exec(ctx,
		`INSERT INTO sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		sess.ID, sess.UserID, formatTime(sess.CreatedAt), formatTime(sess.ExpiresAt))
	switch {
	case isPrimaryKey(err) || isUnique(err):
		return chat.Errorf(chat.ECONFLICT, "Session exists.")
	case isForeignKey(err):
		return chat.Errorf(chat.EINVALID, "The session's user does not exist.")
	case err != nil:
		return fmt.Errorf("sqlite: create session: %w", err)
	}
	return nil
}

// FindSessionByID returns the session with the given id if it has not
// expired by DB.Now, or ENOTFOUND.
func (s *SessionService) FindSessionByID(ctx context.Context, id string) (*chat.Session, error) {
	var (
		sess             chat.Session
		created, expires string
	)
	err := s.db.queryRow(ctx,
		`SELECT id, user_id, created_at, expires_at FROM sessions WHERE id = ? AND expires_at > ?`,
		id, formatTime(s.db.Now())).Scan(&sess.ID, &sess.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.Errorf(chat.ENOTFOUND, "Session not found.")
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find session: %w", err)
	}
	if sess.CreatedAt, err = parseTime(created); err != nil {
		return nil, fmt.Errorf("sqlite: find session: %w", err)
	}
	if sess.ExpiresAt, err = parseTime(expires); err != nil {
		return nil, fmt.Errorf("sqlite: find session: %w", err)
	}
	return &sess, nil
}

// DeleteSession removes the session; a missing session is not an error.
func (s *SessionService) DeleteSession(ctx context.Context, id string) error {
	if _, err := s.db.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions removes the sessions expired at now.
func (s *SessionService) DeleteExpiredSessions(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := s.db.query(ctx, `DELETE FROM sessions WHERE expires_at <= ? RETURNING id`, formatTime(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return ids, fmt.Errorf("sqlite: delete expired sessions: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return ids, fmt.Errorf("sqlite: delete expired sessions: %w", err)
	}
	return ids, nil
}
