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
