package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/chat"
)

// UserService implements chat.UserService.
type UserService struct {
	db *DB
}

var _ chat.UserService = (*UserService)(nil)

// NewUserService returns a UserService backed by db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

const userColumns = `id, username, name, password_hash, github_id, login_count, last_login_at, created_at`

// userColumnsOf is userColumns qualified by a table alias, for joins.
func userColumnsOf(alias string) string {
	cols := strings.Split(userColumns, ", ")
	for i, c := range cols {
		cols[i] = alias + "." + c
	}
	return strings.Join(cols, ", ")
}

// FindUserByID returns the user with the given id, or ENOTFOUND.
func (s *UserService) FindUserByID(ctx context.Context, id int64) (*chat.User, error) {
	return s.findOne(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id)
}

// FindUserByUsername returns the user whose username equals username
// ignoring (ASCII) case, or ENOTFOUND.
func (s *UserService) FindUserByUsername(ctx context.Context, username string) (*chat.User, error) {
	return s.findOne(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username)
}

var findUserBySession = `SELECT ` + userColumnsOf("u") + ` FROM sessions s JOIN users u ON u.id = s.user_id
	WHERE s.id = ? AND s.expires_at > ?`

// FindUserBySessionID returns the user of the session with the given id if
// it has not expired by DB.Now, or ENOTFOUND: one query where
// FindSessionByID then FindUserByID take two.
func (s *UserService) FindUserBySessionID(ctx context.Context, sessionID string) (*chat.User, error) {
	return s.findOne(ctx, findUserBySession, sessionID, formatTime(s.db.Now()))
}

// FindUserByGitHubID returns the user linked to the GitHub account, or
// ENOTFOUND.
func (s *UserService) FindUserByGitHubID(ctx context.Context, githubID int64) (*chat.User, error) {
	if githubID == 0 {
		return nil, chat.Errorf(chat.ENOTFOUND, "User not found.")
	}
	return s.findOne(ctx, `SELECT `+userColumns+` FROM users WHERE github_id = ?`, githubID)
}

func (s *UserService) findOne(ctx context.Context, query string, args ...any) (*chat.User, error) {
	u, err := scanUser(s.db.queryRow(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, chat.Errorf(chat.ENOTFOUND, "User not found.")
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: find user: %w", err)
	}
	return u, nil
}

func scanUser(row rowScanner) (*chat.User, error) {
	var (
		u         chat.User
		githubID  sql.NullInt64
		lastLogin sql.NullString
		created   string
	)
	if err := row.Scan(&u.ID, &u.Username, &u.Name, &u.PasswordHash, &githubID, &u.LoginCount, &lastLogin, &created); err != nil {
		return nil, err
	}
	u.GitHubID = githubID.Int64
	var err error
	if u.LastLoginAt, err = nullTime(lastLogin); err != nil {
		return nil, err
	}
	if u.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser validates and stores u, setting u.ID and u.CreatedAt. A taken
// username (in any case) or an already linked GitHub account is ECONFLICT.
func (s *UserService) CreateUser(ctx context.Context, u *chat.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.PasswordHash == nil && u.GitHubID == 0 {
		return chat.Errorf(chat.EINVALID, "An account needs a password or a GitHub login.")
	}
	created := s.db.Now()
	res, err := s.db.exec(ctx,
		`INSERT INTO users (username, name, password_hash, github_id, login_count, last_login_at, created_at)
		 VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.Username, u.Name, u.PasswordHash, nullInt(u.GitHubID), u.LoginCount, nullTimeArg(u.LastLoginAt), formatTime(created))
	if isUnique(err) {
		return userConflict(err, u.Username)
	} else if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	u.CreatedAt = created.UTC()
	return nil
}

// userConflict tells which unique column a constraint error is about.
func userConflict(err error, username string) error {
	if strings.Contains(err.Error(), "users.github_id") {
		return chat.Errorf(chat.ECONFLICT, "That GitHub account is already linked to another user.")
	}
	return chat.Errorf(chat.ECONFLICT, "The username %q is already taken.", username)
}

// LinkGitHub links a GitHub account to the user and, when name is not
// empty, sets the display name.
func (s *UserService) LinkGitHub(ctx context.Context, userID, githubID int64, name string) error {
	if githubID <= 0 {
		return chat.Errorf(chat.EINVALID, "Invalid GitHub account.")
	}
	name = chat.CleanName(name)
	res, err := s.db.exec(ctx,
		`UPDATE users SET github_id = ?, name = CASE WHEN ? = '' THEN name ELSE ? END WHERE id = ?`,
		githubID, name, name, userID)
	if isUnique(err) {
		return userConflict(err, "")
	} else if err != nil {
		return fmt.Errorf("sqlite: link github: %w", err)
	}
	return mustAffect(res, "User not found.")
}

// RecordLogin counts one login of the user at the given time.
func (s *UserService) RecordLogin(ctx context.Context, userID int64, at time.Time) error {
	res, err := s.db.exec(ctx,
		`UPDATE users SET login_count = login_count + 1, last_login_at = ? WHERE id = ?`, formatTime(at), userID)
	if err != nil {
		return fmt.Errorf("sqlite: record login: %w", err)
	}
	return mustAffect(res, "User not found.")
}

// mustAffect turns "no row changed" into ENOTFOUND.
func mustAffect(res sql.Result, msg string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: %w", err)
	}
	if n == 0 {
		return chat.Errorf(chat.ENOTFOUND, "%s", msg)
	}
	return nil
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }

func nullTimeArg(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}
