package chat_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
)

func TestValidateMessageTrimsAndAccepts(t *testing.T) {
	cases := map[string]string{
		"hello":                      "hello",
		"  padded \n\t":              "padded",
		"line one\nline two":         "line one\nline two",
		"tab\tseparated":             "tab\tseparated",
		"<script>alert(1)</script>":  "<script>alert(1)</script>", // stored as text, escaped on output
		"'; DROP TABLE messages; --": "'; DROP TABLE messages; --",
		"héllo 世界 👋🏽":                "héllo 世界 👋🏽",
		strings.Repeat("界", 1000):    strings.Repeat("界", 1000), // 1000 characters, 3000 bytes
	}
	for in, want := range cases {
		got, err := chat.ValidateMessage(in)
		if err != nil || got != want {
			t.Errorf("ValidateMessage(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestValidateMessageRejects(t *testing.T) {
	cases := map[string]string{
		"empty":           "",
		"only spaces":     " \n\t ",
		"too long":        strings.Repeat("a", 1001),
		"too long runes":  strings.Repeat("é", 1001),
		"invalid utf-8":   "hi \xff\xfe",
		"NUL":             "a\x00b",
		"escape":          "\x1b[31mred",
		"carriage return": "a\rb",
		"C1 control":      "a\u0085b",
	}
	for name, in := range cases {
		_, err := chat.ValidateMessage(in)
		if chat.ErrorCode(err) != chat.EINVALID {
			t.Errorf("%s: ValidateMessage(%q) = %v, want EINVALID", name, in, err)
		}
		if chat.ErrorMessage(err) == "" {
			t.Errorf("%s: no message for the sender", name)
		}
	}
}

// memMessages is an in-memory MessageService for tests of the domain.
type memMessages struct {
	mu   sync.Mutex
	msgs []*chat.Message
	err  error
	now  func() time.Time // stamps messages without a time, if set
}

func (m *memMessages) CreateMessage(_ context.Context, msg *chat.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	msg.ID = int64(len(m.msgs) + 1)
	if msg.At.IsZero() && m.now != nil {
		msg.At = m.now()
	}
	m.msgs = append(m.msgs, msg)
	return nil
}

func (m *memMessages) RecentMessages(_ context.Context, limit int) ([]*chat.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.msgs[max(0, len(m.msgs)-limit):], nil
}

func (m *memMessages) MessagesBefore(_ context.Context, before *chat.Message, limit int) ([]*chat.Message, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.msgs) - 1; i >= 0; i-- {
		if x := m.msgs[i]; x.At.Equal(before.At) && x.Username == before.Username && x.Text == before.Text {
			return m.msgs[max(0, i-limit):i], nil
		}
	}
	return nil, chat.Errorf(chat.ENOTFOUND, "no such message")
}

func TestPosterStoresValidatedMessage(t *testing.T) {
	clock := newFakeClock()
	store := &memMessages{now: clock.Now}
	p := chat.NewPoster(store, clock.Now)
	u := &chat.User{ID: 7, Username: "octo", Name: "The Octocat"}

	m, err := p.Post(context.Background(), u, "  hi there  ")
	if err != nil {
		t.Fatal(err)
	}
	want := chat.Message{ID: 1, UserID: 7, Username: "octo", Name: "The Octocat", Text: "hi there", At: clock.Now()}
	if *m != want {
		t.Errorf("Post = %+v, want %+v", *m, want)
	}
	if len(store.msgs) != 1 {
		t.Errorf("stored %d messages", len(store.msgs))
	}
}

func TestPosterRejectsInvalidWithoutStoring(t *testing.T) {
	store := &memMessages{}
	p := chat.NewPoster(store, newFakeClock().Now)
	_, err := p.Post(context.Background(), &chat.User{ID: 1, Username: "bob"}, "   ")
	if chat.ErrorCode(err) != chat.EINVALID {
		t.Errorf("err = %v, want EINVALID", err)
	}
	if len(store.msgs) != 0 {
		t.Error("an invalid message was stored")
	}
}

func TestPosterRateLimitsPerUserWithCodedError(t *testing.T) {
	clock := newFakeClock()
	store := &memMessages{}
	p := chat.NewPoster(store, clock.Now)
	alice := &chat.User{ID: 1, Username: "alice"}
	bob := &chat.User{ID: 2, Username: "bob"}
	ctx := context.Background()

	for i := 0; i < 10; i++ {
		if _, err := p.Post(ctx, alice, "spam"); err != nil {
			t.Fatalf("message %d of the burst: %v", i+1, err)
		}
	}
	_, err := p.Post(ctx, alice, "one too many")
	if chat.ErrorCode(err) != chat.ERATELIMIT {
		t.Fatalf("11th message: err = %v, want ERATELIMIT", err)
	}
	if !strings.Contains(chat.ErrorMessage(err), "too fast") {
		t.Errorf("message = %q", chat.ErrorMessage(err))
	}
	if _, err := p.Post(ctx, bob, "I am not alice"); err != nil {
		t.Errorf("bob limited by alice's flood: %v", err)
	}
	clock.Advance(200 * time.Millisecond)
	if _, err := p.Post(ctx, alice, "later"); err != nil {
		t.Errorf("alice still limited after a token refilled: %v", err)
	}
	if len(store.msgs) != 12 {
		t.Errorf("stored %d messages, want 12 (nothing from refused posts)", len(store.msgs))
	}
}

func TestPosterPassesStoreErrorsThrough(t *testing.T) {
	boom := errors.New("boom")
	p := chat.NewPoster(&memMessages{err: boom}, nil)
	_, err := p.Post(context.Background(), &chat.User{ID: 1, Username: "bob"}, "hi")
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the store's error", err)
	}
}
