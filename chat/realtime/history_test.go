package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/chat"
)

// stubMessages is a message store that counts its loads and can hold them.
type stubMessages struct {
	mu    sync.Mutex
	msgs  []*chat.Message
	loads atomic.Int64
	hold  chan struct{} // if set, RecentMessages waits for it
	err   error
}

func (s *stubMessages) CreateMessage(_ context.Context, m *chat.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
	return nil
}

func (s *stubMessages) RecentMessages(ctx context.Context, limit int) ([]*chat.Message, error) {
	s.loads.Add(1)
	if s.hold != nil {
		<-s.hold
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return nil, s.err
	}
	from := max(0, len(s.msgs)-limit)
	return append([]*chat.Message(nil), s.msgs[from:]...), nil
}

func (s *stubMessages) MessagesBefore(context.Context, *chat.Message, int) ([]*chat.Message, error) {
	return nil, errors.New("stubMessages: MessagesBefore is not used here")
}

func historyTexts(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var items []chatMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		t.Fatalf("history %s: %v", raw, err)
	}
	texts := make([]string, len(items))
	for i, m := range items {
		texts[i] = m.Message
	}
	return texts
}

func TestHistoryIsServedFromTheCacheAndKeptCurrentByPosts(t *testing.T) {
	store := &stubMessages{}
	store.CreateMessage(context.Background(), &chat.Message{Username: "alice", Text: "one"})
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	h := newHistory(store, 3)
	h.now = func() time.Time { return now }
	ctx := context.Background()

	for range 3 {
		raw, err := h.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := historyTexts(t, raw.list); len(got) != 1 || got[0] != "one" {
			t.Fatalf("history %q", got)
		}
	}
	if n := store.loads.Load(); n != 1 {
		t.Fatalf("%d loads for 3 joins within the TTL, want 1", n)
	}

	// Posts through this server show at once, trimmed to the size.
	for _, text := range []string{"two <b>", "three", "four"} {
		h.add(chatMessage{Username: "bob", Message: text})
	}
	raw, _ := h.get(ctx)
	if got := historyTexts(t, raw.list); len(got) != 3 || got[0] != "two <b>" || got[2] != "four" {
		t.Fatalf("history after posts %q", got)
	}
	if !strings.Contains(string(raw.list), `"two <b>"`) {
		t.Fatalf("history not encoded as other events are (no HTML escaping): %s %s", raw.list, raw.meta)
	}
	if n := store.loads.Load(); n != 1 {
		t.Fatalf("%d loads after posts, want still 1", n)
	}

	// A change made elsewhere shows once the TTL has passed.
	store.CreateMessage(ctx, &chat.Message{Username: "carol", Text: "from another process"})
	now = now.Add(historyTTL)
	raw, _ = h.get(ctx)
	if got := historyTexts(t, raw.list); got[len(got)-1] != "from another process" || store.loads.Load() != 2 {
		t.Fatalf("after the TTL: %q, %d loads", got, store.loads.Load())
	}
}

// The second argument names the message just before the history's oldest
// (null while the history holds every message), loaded or added.
func TestHistoryNamesTheMessageBeforeIt(t *testing.T) {
	store := &stubMessages{}
	h := newHistory(store, 2)
	ctx := context.Background()
	before := func() string {
		t.Helper()
		enc, err := h.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var meta struct {
			Before *chatMessage `json:"before"`
		}
		if err := json.Unmarshal(enc.meta, &meta); err != nil || !strings.HasPrefix(string(enc.meta), `{"before":`) {
			t.Fatalf("meta %s: %v", enc.meta, err)
		}
		if meta.Before == nil {
			return "null"
		}
		return meta.Before.Message
	}
	if got := before(); got != "null" {
		t.Fatalf("empty history: before %s", got)
	}
	for _, text := range []string{"one", "two"} {
		store.CreateMessage(ctx, &chat.Message{Text: text})
		h.add(chatMessage{Message: text})
	}
	if got := before(); got != "null" {
		t.Fatalf("history of every message: before %s", got)
	}
	for _, text := range []string{"three", "four"} {
		store.CreateMessage(ctx, &chat.Message{Text: text})
		h.add(chatMessage{Message: text})
	}
	if got, texts := before(), func() []string { e, _ := h.get(ctx); return historyTexts(t, e.list) }(); got != "two" || strings.Join(texts, ",") != "three,four" {
		t.Fatalf("after posts: before %s, history %q; want two, [three four]", got, texts)
	}
	// Loaded from the store, the same.
	h = newHistory(store, 2)
	if got := before(); got != "two" {
		t.Fatalf("loaded: before %s, want two", got)
	}
	h = newHistory(store, 4)
	if got := before(); got != "null" {
		t.Fatalf("loaded, every message: before %s, want null", got)
	}
}

func TestHistoryLoadsOnceForAWaveOfJoiners(t *testing.T) {
	store := &stubMessages{hold: make(chan struct{})}
	h := newHistory(store, 50)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.get(context.Background()); err != nil {
				t.Error(err)
			}
		}()
	}
	for store.loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // let the others queue behind the load
	close(store.hold)
	wg.Wait()
	if n := store.loads.Load(); n != 1 {
		t.Fatalf("%d loads for 20 simultaneous joiners, want 1", n)
	}
}

func TestHistoryLoadRacingAPostIsNotCached(t *testing.T) {
	store := &stubMessages{hold: make(chan struct{})}
	h := newHistory(store, 50)
	done := make(chan historyPayload)
	go func() {
		raw, _ := h.get(context.Background())
		done <- raw
	}()
	for store.loads.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// A message is stored and announced while the load is under way (the
	// load may or may not have seen it).
	store.CreateMessage(context.Background(), &chat.Message{Text: "during"})
	h.add(chatMessage{Message: "during"})
	close(store.hold)
	<-done
	store.hold = nil
	raw, _ := h.get(context.Background())
	if got := historyTexts(t, raw.list); len(got) != 1 || got[0] != "during" || store.loads.Load() != 2 {
		t.Fatalf("history %q after %d loads; want the store read again", got, store.loads.Load())
	}
}

func TestHistoryLoadErrorsAreReturnedAndRetried(t *testing.T) {
	store := &stubMessages{err: errors.New("disk on fire")}
	h := newHistory(store, 50)
	if _, err := h.get(context.Background()); err == nil {
		t.Fatal("no error")
	}
	store.mu.Lock()
	store.err = nil
	store.mu.Unlock()
	if raw, err := h.get(context.Background()); err != nil || string(raw.list) != "[]" {
		t.Fatalf("retry: %s %s, %v", raw.list, raw.meta, err)
	}
}
