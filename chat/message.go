package chat

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Limits on chat messages.
const (
	MessageMaxLen = 1000 // characters (runes) after trimming
	HistorySize   = 50   // messages sent to a client when it joins
)

// Message is one chat message. Username and Name are the author's at the
// time the message is read; they are not stored twice.
type Message struct {
	ID       int64
	UserID   int64
	Username string
	Name     string // author's display name; see User.DisplayName
	Text     string
	At       time.Time
}

// MessageService stores chat messages. Implementations are safe for
// concurrent use.
type MessageService interface {
	// CreateMessage stores m, setting m.ID (and m.At if it is zero).
	// EINVALID if the text is empty or the author does not exist.
	CreateMessage(ctx context.Context, m *Message) error
	// RecentMessages returns the newest limit messages, oldest first, with
	// their authors' current names.
	RecentMessages(ctx context.Context, limit int) ([]*Message, error)
	// MessagesBefore returns the newest limit messages posted before the
	// message before, oldest first, with their authors' current names: the
	// page of messages before one a reader is shown. before is known by
	// what a page shows of it: At, Username and Text (the newest such
	// message if several are the same). ENOTFOUND if there is none.
	MessagesBefore(ctx context.Context, before *Message, limit int) ([]*Message, error)
}

// ValidateMessage returns text with surrounding white space trimmed, or an
// EINVALID error if the result is empty, longer than MessageMaxLen
// characters, not valid UTF-8, or contains control characters other than
// newline and tab.
func ValidateMessage(text string) (string, error) {
	if !utf8.ValidString(text) {
		return "", Errorf(EINVALID, "Messages must be valid UTF-8 text.")
	}
	text = strings.TrimSpace(text)
	if text == "" {
		return "", Errorf(EINVALID, "Messages cannot be empty.")
	}
	if utf8.RuneCountInString(text) > MessageMaxLen {
		return "", Errorf(EINVALID, "Messages are at most %d characters long.", MessageMaxLen)
	}
	if hasControl(text) {
		return "", Errorf(EINVALID, "Messages cannot contain control characters.")
	}
	return text, nil
}

// hasControl reports whether s contains a control character other than
// newline and tab.
func hasControl(s string) bool {
	for _, r := range s {
		if r != '\n' && r != '\t' && unicode.IsControl(r) {
			return true
		}
	}
	return false
}

// Poster is the one path by which a user's chat message enters the room:
// it rate-limits per user, validates, and stores. The realtime layer calls
// Post for every "chat message" event and broadcasts what it returns.
// A Poster is safe for concurrent use.
type Poster struct {
	messages MessageService
	limiter  *RateLimiter
}

// NewPoster returns a Poster that stores into ms and allows each user 5
// messages per second with bursts of 10. now is the rate limit's clock
// (time.Now if nil); the store stamps the messages.
func NewPoster(ms MessageService, now func() time.Time) *Poster {
	if now == nil {
		now = time.Now
	}
	return &Poster{
		messages: ms,
		limiter:  NewRateLimiter(5, time.Second, 10, now),
	}
}

// Post validates text, charges the user's rate limit and stores the message.
// It returns the stored message, or an ERATELIMIT or EINVALID error whose
// ErrorMessage is meant for the sender; nothing is stored then. A message
// refused for being invalid still costs a token, so a flood of bad messages
// is limited too.
func (p *Poster) Post(ctx context.Context, u *User, text string) (*Message, error) {
	if ok, wait := p.limiter.Allow(userKey(u.ID)); !ok {
		return nil, Errorf(ERATELIMIT, "You are sending messages too fast; wait %s.", roundUp(wait))
	}
	text, err := ValidateMessage(text)
	if err != nil {
		return nil, err
	}
	// At is left to the store, which stamps it in the order messages are
	// stored: a time taken here could be earlier than that of a message
	// stored before this one.
	m := &Message{UserID: u.ID, Username: u.Username, Name: u.DisplayName(), Text: text}
	if err := p.messages.CreateMessage(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// Refuse answers a message refused before it could be posted (it was not
// text): it costs a token like any message, so a flood of bad messages is
// limited too. It returns err, or the rate-limit error once the user is
// over the limit.
func (p *Poster) Refuse(u *User, err error) error {
	if ok, wait := p.limiter.Allow(userKey(u.ID)); !ok {
		return Errorf(ERATELIMIT, "You are sending messages too fast; wait %s.", roundUp(wait))
	}
	return err
}

func userKey(id int64) string { return "user:" + strconv.FormatInt(id, 10) }

// roundUp renders a wait for people: "1s", "2s", … never "0s".
func roundUp(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Second
	}
	return ((d + time.Second - 1) / time.Second) * time.Second
}
