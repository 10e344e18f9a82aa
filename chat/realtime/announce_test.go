package realtime

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/socketio/adapter"
	"switchboard/socketio/parser"
)

// batchRecorder is an adapter that records the events of each Broadcast
// call and holds the first one, once armed, until released.
type batchRecorder struct {
	mu       sync.Mutex
	calls    [][]string // "event arg" of each Broadcast's packets
	armed    bool
	held     chan struct{} // closed when the first broadcast is held
	release  chan struct{}
	released bool
}

func (r *batchRecorder) factory(nsp adapter.Namespace) adapter.Adapter {
	return batchRecording{Adapter: adapter.NewInMemory(nsp), r: r}
}

type batchRecording struct {
	adapter.Adapter
	r *batchRecorder
}

func (a batchRecording) Broadcast(ps []*parser.Packet, opts adapter.BroadcastOptions) error {
	var events []string
	for _, p := range ps {
		var args []json.RawMessage
		_ = json.Unmarshal(p.Data, &args)
		var name string
		_ = json.Unmarshal(args[0], &name)
		events = append(events, name+" "+string(args[1]))
	}
	a.r.mu.Lock()
	a.r.calls = append(a.r.calls, events)
	hold := a.r.armed
	a.r.armed = false
	a.r.mu.Unlock()
	if hold {
		close(a.r.held)
		<-a.r.release
	}
	return a.Adapter.Broadcast(ps, opts)
}

// The announcements of users joining while another's is being sent are
// not sent one broadcast each: they wait, then go out together in one
// broadcast, in the order of the changes.
func TestJoinsDuringAnAnnouncementAreAnnouncedTogetherInOrder(t *testing.T) {
	const joiners = 10
	rec := &batchRecorder{held: make(chan struct{}), release: make(chan struct{})}
	e := newEnvWith(t, func(c *Config) { c.adapter = rec.factory })
	defer func() {
		if !rec.released {
			close(rec.release)
		}
	}()
	for i := range joiners {
		e.addUser(fmt.Sprintf("user%d", i))
	}
	rec.mu.Lock()
	rec.armed = true
	rec.mu.Unlock()
	first := e.open("user0")
	<-rec.held // user0's announcement is being sent
	tabs := []*tab{first}
	for i := 1; i < joiners; i++ {
		tabs = append(tabs, e.open(fmt.Sprintf("user%d", i)))
	}
	for deadline := time.Now().Add(5 * time.Second); e.rt.presence.Count() < joiners; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d users joined while an announcement was being sent: the others wait for it to change presence",
				e.rt.presence.Count(), joiners)
		}
	}
	rec.released = true
	close(rec.release)
	for _, tb := range tabs {
		tb.settle(joiners)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != 2 {
		t.Fatalf("%d broadcasts, want 2 (user0's, then all the others'): %q", len(rec.calls), rec.calls)
	}
	got := rec.calls[1]
	if len(got) != 2*(joiners-1) {
		t.Fatalf("second broadcast has %d events, want %d: %q", len(got), 2*(joiners-1), got)
	}
	var names []string
	for k := 0; k < len(got); k += 2 {
		count := k/2 + 2 // in change order: 2, 3, … users online
		if want := fmt.Sprintf("user count %d", count); got[k] != want {
			t.Fatalf("event %d: %q, want %q", k, got[k], want)
		}
		var u userEvent
		if name, arg, _ := strings.Cut(got[k+1], " "); name != "user" || json.Unmarshal([]byte(arg), &u) != nil || u.CurrentUsers != count || !u.Connected {
			t.Fatalf("event %d: %q, want a user joining with currentUsers %d", k+1, got[k+1], count)
		}
		names = append(names, u.Username)
	}
	slices.Sort(names)
	for i, name := range names {
		if want := fmt.Sprintf("user%d", i+1); name != want {
			t.Fatalf("users announced %v", names)
		}
	}
}

// waitFor polls cond until it holds, failing the test after 5 s with what.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// Joins and leaves queued while an announcement is being sent go out in
// change order; a second tab's own count, which only that tab hears, ends
// a batch and is sent between the announcements around it.
func TestJoinsLeavesAndASecondTabQueuedMeanwhileKeepTheirOrder(t *testing.T) {
	rec := &batchRecorder{held: make(chan struct{}), release: make(chan struct{})}
	e := newEnvWith(t, func(c *Config) { c.adapter = rec.factory })
	defer func() {
		if !rec.released {
			close(rec.release)
		}
	}()
	for _, name := range []string{"user0", "user1", "user2"} {
		e.addUser(name)
	}
	bob := e.open("bob")
	bob.settle(1)
	rec.mu.Lock()
	rec.armed, rec.calls = true, nil
	rec.mu.Unlock()
	user0 := e.open("user0")
	<-rec.held // user0's announcement is being sent

	count := e.rt.presence.Count
	user1 := e.open("user1")
	waitFor(t, "user1's join", func() bool { return count() == 3 })
	second := e.open("user0")
	waitFor(t, "user0's second tab", func() bool { return e.rt.presence.Connections(e.users["user0"].ID) == 2 })
	user2 := e.open("user2")
	waitFor(t, "user2's join", func() bool { return count() == 4 })
	bob.Close()
	waitFor(t, "bob's departure", func() bool { return count() == 3 })
	rec.released = true
	close(rec.release)

	user := func(name string, n int, connected bool) string {
		b, _ := json.Marshal(userEvent{Username: name, Name: name, CurrentUsers: n, Connected: connected})
		return "user " + string(b)
	}
	want := [][]string{
		{"user count 2", user("user0", 2, true)},
		{"user count 3", user("user1", 3, true)},
		// here the second tab's "user count 3", to that tab alone
		{"user count 4", user("user2", 4, true), "user count 3", user("bob", 3, false)},
	}
	for _, tb := range []*tab{user0, user1, user2} {
		tb.expect("chat history")
	}
	// The second tab, connected before the held broadcast selected its
	// recipients, hears everything from user0's join on, its own count in
	// its place.
	var heard []string
	for len(heard) < 9 {
		name, arg := second.event()
		switch name {
		case "user count":
			heard = append(heard, "user count "+arg)
		case "user":
			heard = append(heard, "user "+arg)
		}
	}
	wantHeard := slices.Concat(want[0], want[1], []string{"user count 3"}, want[2])
	if !slices.Equal(heard, wantHeard) {
		t.Fatalf("the second tab heard\n%q\nwant\n%q", heard, wantHeard)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.calls) != len(want) {
		t.Fatalf("broadcasts %q, want %q", rec.calls, want)
	}
	for i := range want {
		if !slices.Equal(rec.calls[i], want[i]) {
			t.Fatalf("broadcast %d: %q, want %q", i, rec.calls[i], want[i])
		}
	}
}

// panickingAdapter panics in the first Broadcast that when selects, as a
// faulty adapter (a cluster's, say) might.
type panickingAdapter struct {
	adapter.Adapter
	once *sync.Once
	when func(ps []*parser.Packet) bool
}

func (a panickingAdapter) Broadcast(ps []*parser.Packet, opts adapter.BroadcastOptions) error {
	if a.when(ps) {
		a.once.Do(func() { panic("adapter broken") })
	}
	return a.Adapter.Broadcast(ps, opts)
}

// panicOnce configures e's server with a panickingAdapter.
func panicOnce(when func(ps []*parser.Packet) bool) func(*Config) {
	once := new(sync.Once)
	return func(c *Config) {
		c.adapter = func(nsp adapter.Namespace) adapter.Adapter {
			return panickingAdapter{Adapter: adapter.NewInMemory(nsp), once: once, when: when}
		}
	}
}

// An announcement whose sending panics does not wedge the ones after it:
// the turn to send still passes on, so the next users who join are
// announced (and get their history) instead of waiting forever.
func TestAPanickingAnnouncementDoesNotStopTheNext(t *testing.T) {
	e := newEnvWith(t, panicOnce(func([]*parser.Packet) bool { return true }))
	e.open("alice") // her announcement panics (the panic is recovered and logged)
	bob := e.open("bob")
	if name, arg := bob.event(); name != "user count" || arg != "2" {
		t.Fatalf("bob got %s %s first, want user count 2", name, arg)
	}
}

// A message whose broadcast panics does not stop the chat: the lock that
// orders posts is released, and the next message goes out.
func TestAPanickingBroadcastDoesNotStopTheChat(t *testing.T) {
	e := newEnvWith(t, panicOnce(func(ps []*parser.Packet) bool {
		return strings.HasPrefix(string(ps[0].Data), `["chat message"`)
	}))
	alice := e.open("alice")
	bob := e.open("bob")
	bob.expect("chat history")             // bob is in the chat room: he hears messages live
	alice.Text(`42["chat message","one"]`) // its broadcast panics (recovered and logged)
	alice.Text(`42["chat message","two"]`)
	for {
		arg := bob.expect("chat message")
		if strings.Contains(arg, `"message":"two"`) {
			return
		}
	}
}
