package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/chat/sqlite"
)

func TestCreateMessageFillsIDTimeAndAuthor(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(t, db, &chat.User{Username: "writer", Name: "The Writer", PasswordHash: []byte("h")})

	m := &chat.Message{UserID: u.ID, Text: "hello"}
	if err := s.CreateMessage(ctx, m); err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || !m.At.Equal(testNow) || m.Username != "writer" || m.Name != "The Writer" {
		t.Errorf("after create: %+v", m)
	}
}

func TestMessagesAreStoredVerbatim(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(t, db, newUser("verbatim"))
	texts := []string{
		"'; DROP TABLE messages; --",
		`" OR 1=1; DELETE FROM users WHERE "" = "`,
		"<script>alert(document.cookie)</script>",
		"<img src=x onerror=alert(1)>",
		"héllo wörld — ünïcödé",
		"日本語のメッセージ",
		"👩🏽‍💻 family: 👨‍👩‍👧‍👦",
		"line one\nline two\ttabbed",
		"%_ wildcards \\ backslash",
		strings.Repeat("界", 1000),
	}
	at := testNow
	for _, text := range texts {
		at = at.Add(time.Second)
		if err := s.CreateMessage(ctx, &chat.Message{UserID: u.ID, Text: text, At: at}); err != nil {
			t.Fatalf("%q: %v", text, err)
		}
	}
	got, err := s.RecentMessages(ctx, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(texts) {
		t.Fatalf("got %d messages, want %d", len(got), len(texts))
	}
	for i, m := range got {
		if m.Text != texts[i] {
			t.Errorf("message %d = %q, want %q", i, m.Text, texts[i])
		}
		if !m.At.Equal(testNow.Add(time.Duration(i+1) * time.Second)) {
			t.Errorf("message %d at %v", i, m.At)
		}
	}
	// The injection attempts did nothing.
	if _, err := sqlite.NewUserService(db).FindUserByID(ctx, u.ID); err != nil {
		t.Errorf("user gone: %v", err)
	}
}

func TestRecentMessagesReturnsNewestOldestFirst(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(t, db, newUser("chatty"))
	for i := 1; i <= 60; i++ {
		if err := s.CreateMessage(ctx, &chat.Message{UserID: u.ID, Text: fmt.Sprint("msg ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RecentMessages(ctx, chat.HistorySize)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 50 {
		t.Fatalf("got %d, want 50", len(got))
	}
	if got[0].Text != "msg 11" || got[49].Text != "msg 60" {
		t.Errorf("first %q last %q; want msg 11 … msg 60", got[0].Text, got[49].Text)
	}
	for i := 1; i < len(got); i++ {
		if got[i].ID <= got[i-1].ID {
			t.Fatalf("not oldest first at %d", i)
		}
	}
	if none, err := s.RecentMessages(ctx, 0); err != nil || len(none) != 0 {
		t.Errorf("limit 0: %v, %v", none, err)
	}
}

func TestRecentMessagesOnEmptyDatabase(t *testing.T) {
	got, err := sqlite.NewMessageService(MustOpenDB(t)).RecentMessages(context.Background(), 50)
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("got %v, %v; want an empty, non-nil slice", got, err)
	}
}

func TestRecentMessagesShowCurrentDisplayName(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(t, db, newUser("renamed"))
	s.CreateMessage(ctx, &chat.Message{UserID: u.ID, Text: "before"})
	got, _ := s.RecentMessages(ctx, 1)
	if got[0].Name != "renamed" || got[0].Username != "renamed" {
		t.Errorf("without a display name: %+v", got[0])
	}
	if err := sqlite.NewUserService(db).LinkGitHub(ctx, u.ID, 77, "Now Famous"); err != nil {
		t.Fatal(err)
	}
	got, _ = s.RecentMessages(ctx, 1)
	if got[0].Name != "Now Famous" {
		t.Errorf("after rename: %+v", got[0])
	}
}

func TestCreateMessageRejectsEmptyAndOrphans(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(t, db, newUser("someone"))
	if err := s.CreateMessage(ctx, &chat.Message{UserID: u.ID}); chat.ErrorCode(err) != chat.EINVALID {
		t.Errorf("empty text: %v", err)
	}
	if err := s.CreateMessage(ctx, &chat.Message{UserID: 999, Text: "ghost"}); chat.ErrorCode(err) != chat.EINVALID {
		t.Errorf("unknown author: %v", err)
	}
	if got, _ := s.RecentMessages(ctx, 10); len(got) != 0 {
		t.Errorf("%d messages stored", len(got))
	}
}

func TestConcurrentWritersAllSucceed(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	sessions := sqlite.NewSessionService(db)
	u := MustCreateUser(t, db, newUser("busy"))
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				errs <- s.CreateMessage(ctx, &chat.Message{UserID: u.ID, Text: fmt.Sprint(g, "/", i)})
				errs <- sessions.CreateSession(ctx, &chat.Session{ID: fmt.Sprint(g, "-", i), UserID: u.ID, ExpiresAt: testNow.Add(time.Hour)})
				if _, err := s.RecentMessages(ctx, 5); err != nil {
					errs <- err
				}
			}
		}()
	}
	go func() { wg.Wait(); close(errs) }()
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := s.RecentMessages(ctx, 1000)
	if len(got) != 160 {
		t.Errorf("%d messages stored, want 160", len(got))
	}
}

// Messages stored at the same time by several writers are stamped in the
// order they are stored: RecentMessages (in id order) never shows a message
// with an earlier time after a later one.
func TestConcurrentMessagesAreStampedInIDOrder(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "order.db")) // real clock
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := MustCreateUser(t, db, newUser("order"))
	s := sqlite.NewMessageService(db)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if err := s.CreateMessage(ctx, &chat.Message{UserID: u.ID, Text: "x"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantTimesInIDOrder(t, s)
}

// The same holds for messages posted through chat.Poster, the path every
// chat message takes: the history never shows times going backwards.
func TestConcurrentPostsAreStampedInIDOrder(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "posts.db")) // real clock
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := sqlite.NewMessageService(db)
	p := chat.NewPoster(s, db.Now)
	var wg sync.WaitGroup
	for g := range 16 {
		u := MustCreateUser(t, db, newUser(fmt.Sprint("poster", g)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 { // within the rate limit's burst
				if _, err := p.Post(ctx, u, "hello"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantTimesInIDOrder(t, s)
}

// wantTimesInIDOrder checks that the stored history never goes back in time.
func wantTimesInIDOrder(t *testing.T, s *sqlite.MessageService) {
	t.Helper()
	got, err := s.RecentMessages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(got); i++ {
		if got[i].At.Before(got[i-1].At) {
			t.Fatalf("message %d (id %d) at %v comes after message %d (id %d) at %v",
				i, got[i].ID, got[i].At, i-1, got[i-1].ID, got[i-1].At)
		}
	}
}

func TestMessagesBeforePagesBackwards(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	s := sqlite.NewMessageService(db)
	u := MustCreateUser(t, db, newUser("chatty"))
	var msgs []*chat.Message
	for i := 1; i <= 60; i++ {
		m := &chat.Message{UserID: u.ID, Text: fmt.Sprint("msg ", i)}
		if i == 31 {
			m.Text = "msg 30" // the same text twice: known apart by time
		}
		if err := s.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	texts := func(msgs []*chat.Message) string {
		var out []string
		for _, m := range msgs {
			out = append(out, m.Text)
		}
		return strings.Join(out, ",")
	}
	// What a page knows of a message: its time (as JSON carried it),
	// author and text.
	shown := func(m *chat.Message) *chat.Message {
		at, err := time.Parse(time.RFC3339Nano, m.At.Format(time.RFC3339Nano))
		if err != nil {
			t.Fatal(err)
		}
		return &chat.Message{At: at, Username: "chatty", Text: m.Text}
	}
	for _, c := range []struct {
		before *chat.Message
		limit  int
		want   string
	}{
		{shown(msgs[10]), 3, "msg 8,msg 9,msg 10"}, // the three before msg 11
		{shown(msgs[2]), 50, "msg 1,msg 2"},        // fewer than asked
		{shown(msgs[0]), 50, ""},                   // nothing before the first
		{shown(msgs[30]), 2, "msg 29,msg 30"},      // the second "msg 30"
		{shown(msgs[5]), 0, ""},                    // none asked
	} {
		got, err := s.MessagesBefore(ctx, c.before, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if texts(got) != c.want {
			t.Errorf("MessagesBefore(%q, %d) = %q, want %q", c.before.Text, c.limit, texts(got), c.want)
		}
		if len(got) > 0 && (got[0].Username != "chatty" || got[0].At.IsZero()) {
			t.Errorf("MessagesBefore(%q): first %+v, want its author and time", c.before.Text, got[0])
		}
	}
	for _, unknown := range []*chat.Message{
		{At: msgs[3].At, Username: "chatty", Text: "not what was said"},
		{At: msgs[3].At, Username: "someone", Text: msgs[3].Text},
		{At: msgs[3].At.Add(time.Nanosecond), Username: "chatty", Text: msgs[3].Text},
	} {
		if _, err := s.MessagesBefore(ctx, unknown, 5); chat.ErrorCode(err) != chat.ENOTFOUND {
			t.Errorf("MessagesBefore(%+v): %v, want ENOTFOUND", unknown, err)
		}
	}
}
