package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"switchboard/chat"
)

// MessageService implements chat.MessageService.
type MessageService struct {
	db *DB
}

var _ chat.MessageService = (*MessageService)(nil)

// NewMessageService returns a MessageService backed by db.
func NewMessageService(db *DB) *MessageService { return &MessageService{db: db} }

// MaxRecent caps RecentMessages' limit.
const MaxRecent = 1000

// CreateMessage stores m as given (the text verbatim), setting m.ID, m.At if
// it is zero, and m.Username and m.Name from the author if they are empty.
func (s *MessageService) CreateMessage(ctx context.Context, m *chat.Message) error {
	if m.Text == "" {
		return chat.Errorf(chat.EINVALID, "Messages cannot be empty.")
	}
	tx, err := s.db.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create message: %w", err)
	}
	defer tx.Rollback()
	// The transaction holds the write lock (BEGIN IMMEDIATE): a time taken
	// now follows that of every message stored before this one.
	if m.At.IsZero() {
		m.At = s.db.Now()
	}
	m.At = m.At.UTC()

	var username, name string
	err = tx.QueryRowContext(ctx, `SELECT username, `+displayName+` FROM users u WHERE id = ?`, m.UserID).Scan(&username, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.Errorf(chat.EINVALID, "The message's author does not exist.")
	} else if err != nil {
		return fmt.Errorf("sqlite: create message: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO messages (user_id, text, created_at) VALUES (?, ?, ?)`,
		m.UserID, m.Text, formatTime(m.At))
	if err != nil {
		return fmt.Errorf("sqlite: create message: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create message: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create message: %w", err)
	}
	m.ID = id
	if m.Username == "" {
		m.Username = username
	}
	if m.Name == "" {
		m.Name = name
	}
	return nil
}

// displayName is the SQL for chat.User.DisplayName of users row u.
const displayName = `CASE WHEN u.name = '' THEN u.username ELSE u.name END`

// RecentMessages returns the newest limit messages (at most MaxRecent),
// oldest first, with their authors' current names.
func (s *MessageService) RecentMessages(ctx context.Context, limit int) ([]*chat.Message, error) {
	msgs, err := s.before(ctx, math.MaxInt64, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: recent messages: %w", err)
	}
	return msgs, nil
}

// MessagesBefore returns the newest limit messages (at most MaxRecent)
// posted before the message before (known by its At, Username and Text),
// oldest first, with their authors' current names; ENOTFOUND if there is
// no such message.
func (s *MessageService) MessagesBefore(ctx context.Context, before *chat.Message, limit int) ([]*chat.Message, error) {
	var id int64
	err := s.db.queryRow(ctx, `
		SELECT m.id FROM messages m JOIN users u ON u.id = m.user_id
		WHERE m.created_at = ? AND u.username = ? AND m.text = ?
		ORDER BY m.id DESC LIMIT 1`, formatTime(before.At), before.Username, before.Text).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.Errorf(chat.ENOTFOUND, "That message is not in the chat's history.")
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: messages before: %w", err)
	}
	msgs, err := s.before(ctx, id, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: messages before: %w", err)
	}
	return msgs, nil
}

func (s *MessageService) before(ctx context.Context, beforeID int64, limit int) ([]*chat.Message, error) {
	if limit <= 0 {
		return []*chat.Message{}, nil
	}
	limit = min(limit, MaxRecent)
	rows, err := s.db.query(ctx, `
		SELECT id, user_id, username, name, text, created_at FROM (
			SELECT m.id, m.user_id, u.username, `+displayName+` AS name, m.text, m.created_at
			FROM messages m JOIN users u ON u.id = m.user_id
			WHERE m.id < ?
			ORDER BY m.id DESC LIMIT ?
		) ORDER BY id ASC`, beforeID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	msgs := make([]*chat.Message, 0, limit)
	for rows.Next() {
		var (
			m  chat.Message
			at string
		)
		if err := rows.Scan(&m.ID, &m.UserID, &m.Username, &m.Name, &m.Text, &at); err != nil {
			return nil, err
		}
		if m.At, err = parseTime(at); err != nil {
			return nil, err
		}
		msgs = append(msgs, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return msgs, nil
}
