package chat

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on account names and passwords.
const (
	UsernameMinLen   = 3  // characters
	UsernameMaxLen   = 32 // characters, all ASCII
	PasswordMinLen   = 8  // characters (runes)
	PasswordMaxBytes = 72 // bcrypt ignores anything beyond 72 bytes
	NameMaxLen       = 64 // characters (runes) of a display name
)

// User is an account. A user has a password, a linked GitHub account, or
// both.
type User struct {
	ID       int64
	Username string // unique regardless of case; see ValidateUsername
	Name     string // display name (from GitHub); may be empty

	PasswordHash []byte // bcrypt hash; nil for GitHub-only accounts
	GitHubID     int64  // 0 when no GitHub account is linked

	LoginCount  int
	LastLoginAt time.Time // zero before the first login
	CreatedAt   time.Time
}

// DisplayName returns the name to show in the chat: Name if set, otherwise
// Username.
func (u *User) DisplayName() string {
	if u.Name != "" {
		return u.Name
	}
	return u.Username
}

// Validate reports whether u's fields can be stored: a valid username and a
// sane display name.
func (u *User) Validate() error {
	if err := ValidateUsername(u.Username); err != nil {
		return err
	}
	if utf8.RuneCountInString(u.Name) > NameMaxLen || !utf8.ValidString(u.Name) || hasControl(u.Name) {
		return Errorf(EINVALID, "Display names are at most %d characters, without control characters.", NameMaxLen)
	}
	return nil
}

// ValidateUsername reports whether s is an acceptable username: 3 to 32
// characters from A–Z, a–z, 0–9, "_" and "-". The check is on the exact
// string; callers trim surrounding spaces first if they want to.
func ValidateUsername(s string) error {
	if len(s) < UsernameMinLen || len(s) > UsernameMaxLen {
		return Errorf(EINVALID, "Usernames are %d to %d characters long.", UsernameMinLen, UsernameMaxLen)
	}
	for i := 0; i < len(s); i++ {
		if !usernameByte(s[i]) {
			return Errorf(EINVALID, "Usernames may only contain letters A–Z, digits, \"_\" and \"-\".")
		}
	}
	return nil
}

func usernameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
}

// ValidatePassword reports whether s is an acceptable password: at least 8
// characters and at most 72 bytes (bcrypt's limit; longer passwords would be
// silently truncated, so they are refused instead).
func ValidatePassword(s string) error {
	if utf8.RuneCountInString(s) < PasswordMinLen {
		return Errorf(EINVALID, "Passwords are at least %d characters long.", PasswordMinLen)
	}
	if len(s) > PasswordMaxBytes {
		return Errorf(EINVALID, "Passwords are at most %d bytes long.", PasswordMaxBytes)
	}
	return nil
}

// UsernameFromLogin turns a login from another site (a GitHub login) into a
// valid username: characters outside the allowed set become "-", the result
// is cut to UsernameMaxLen and padded to UsernameMinLen. The result may still
// be taken; see UsernameCandidates.
func UsernameFromLogin(login string) string {
	var b strings.Builder
	for _, r := range login {
		if r < utf8.RuneSelf && usernameByte(byte(r)) {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
		if b.Len() == UsernameMaxLen {
			break
		}
	}
	s := b.String()
	if strings.Trim(s, "-_") == "" {
		s = "user"
	}
	for len(s) < UsernameMinLen {
		s += "_"
	}
	return s
}

// UsernameCandidates returns up to n usernames to try, in order, for an
// account whose preferred name is base: base itself (made valid), then
// base-2, base-3, … each cut to fit UsernameMaxLen.
func UsernameCandidates(base string, n int) []string {
	base = UsernameFromLogin(base)
	out := make([]string, 0, n)
	for i := 1; len(out) < n; i++ {
		if i == 1 {
			out = append(out, base)
			continue
		}
		suffix := "-" + strconv.Itoa(i)
		b := base
		if len(b)+len(suffix) > UsernameMaxLen {
			b = b[:UsernameMaxLen-len(suffix)]
		}
		out = append(out, b+suffix)
	}
	return out
}

// CleanName makes a display name from another site safe to store: control
// characters removed, spaces trimmed, cut to NameMaxLen characters.
func CleanName(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > NameMaxLen {
		s = string([]rune(s)[:NameMaxLen])
	}
	return s
}

// UserService stores users. Implementations are safe for concurrent use.
type UserService interface {
	// FindUserByID returns the user with the given id, or ENOTFOUND.
	FindUserByID(ctx context.Context, id int64) (*User, error)
	// FindUserBySessionID returns the user of the unexpired session with
	// the given id, or ENOTFOUND (one lookup where a request authenticates).
	FindUserBySessionID(ctx context.Context, sessionID string) (*User, error)
	// FindUserByUsername returns the user whose username equals username
	// ignoring case, or ENOTFOUND.
	FindUserByUsername(ctx context.Context, username string) (*User, error)
	// FindUserByGitHubID returns the user linked to the GitHub account, or
	// ENOTFOUND.
	FindUserByGitHubID(ctx context.Context, githubID int64) (*User, error)
	// CreateUser validates and stores u, setting u.ID and u.CreatedAt.
	// A username taken by another user (in any case) or an already linked
	// GitHub account yields ECONFLICT.
	CreateUser(ctx context.Context, u *User) error
	// LinkGitHub links a GitHub account (and its display name) to the user.
	// ECONFLICT if that account is linked to another user, ENOTFOUND if the
	// user does not exist.
	LinkGitHub(ctx context.Context, userID, githubID int64, name string) error
	// RecordLogin counts one login of the user at the given time.
	RecordLogin(ctx context.Context, userID int64, at time.Time) error
}
