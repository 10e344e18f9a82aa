package realtime

import (
	"context"
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

// A server that shuts down disconnects every socket of its own: telling
// each of them that the others are leaving is waste — two sends per
// departure to every socket still open, quadratic in the users online.
// The departures are still announced, once each and in the order of the
// changes, to the sockets that stay: with a cluster adapter, those of the
// other servers, which are in the rooms every chat socket joins.
func TestShutdownAnnouncesDeparturesOnlyToTheSocketsThatStay(t *testing.T) {
	const users = 30
	rec := &recordingAdapter{}
	e := newEnvWith(t, func(c *Config) { c.adapter = rec.factory })
	for i := range users {
		e.addUser(fmt.Sprintf("user%02d", i))
	}
	var tabs []*tab
	for i := range users {
		tabs = append(tabs, e.open(fmt.Sprintf("user%02d", i)))
	}
	for _, tb := range tabs {
		tb.settle(users)
	}
	// What a socket of another server, connected like these, is in.
	sockets := e.rt.io.Of("/").Sockets()
	stay := sockets[0]
	stayRooms := slices.DeleteFunc(stay.Rooms(), func(r string) bool { return r == stay.ID() })
	// One socket's teardown is held before it leaves its rooms until the
	// first departure is announced: a socket that is being closed, still
	// in the adapter (its runner not there yet), as any of them may be.
	rec.hold(sockets[1].ID())

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		heard []string // announcements received by the sockets being closed
	)
	for _, tb := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				msg, _, err := tb.TryRead(5 * time.Second)
				if err != nil {
					tb.Close() // closed by the server
					return
				}
				if msg == "2" {
					_ = tb.TryText("3", time.Second)
				}
				if strings.HasPrefix(msg, `42["user`) {
					mu.Lock()
					heard = append(heard, msg)
					mu.Unlock()
				}
			}
		}()
	}
	rec.start()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.rt.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if len(heard) > 0 {
		t.Errorf("the sockets being closed were sent %d announcements, e.g. %s", len(heard), heard[0])
	}

	sent := rec.stop()
	left := map[string]bool{}
	wasted := 0 // broadcasts that selected sockets of this server
	for i := 0; i < len(sent); i += 2 {
		count, user := sent[i], userEvent{}
		if i+1 == len(sent) || count.event != "user count" || sent[i+1].event != "user" || json.Unmarshal([]byte(sent[i+1].arg), &user) != nil {
			t.Fatalf("broadcast %d: %+v, want a `user count` then a `user`; all: %+v", i, sent[i:], sent)
		}
		want := users - 1 - i/2
		if count.arg != fmt.Sprint(want) || user.CurrentUsers != want || user.Connected || left[user.Username] {
			t.Errorf("departure %d: `user count` %s, `user` %+v; want %d and a new user leaving", i/2, count.arg, user, want)
		}
		left[user.Username] = true
		for _, b := range sent[i : i+2] {
			if !b.selects(stayRooms) {
				t.Errorf("departure %d: %s broadcast with %+v, which misses the sockets that stay (in %q)", i/2, b.event, b.opts, stayRooms)
			}
			if len(b.local) > 0 {
				wasted++
			}
		}
	}
	if wasted > 0 {
		t.Errorf("%d of %d announcements were broadcast to sockets of this server, which is closing them", wasted, len(sent))
	}
	if len(left) != users {
		t.Errorf("%d departures announced, want %d", len(left), users)
	}
}

// A user who connects while the server shuts down (its middleware done as
// Shutdown began) is announced as departures are: to the sockets that stay,
// not to this server's own, which are being closed.
func TestAUserConnectingDuringShutdownIsAnnouncedOnlyToTheSocketsThatStay(t *testing.T) {
	rec := &recordingAdapter{}
	e := newEnvWith(t, func(c *Config) { c.adapter = rec.factory }) // alice and bob exist
	alice := e.open("alice")
	alice.settle(1)
	stay := e.rt.io.Of("/").Sockets()[0]
	stayRooms := slices.DeleteFunc(stay.Rooms(), func(r string) bool { return r == stay.ID() })

	// Shutdown's first step, without its second (closing the sockets).
	e.rt.announceMu.Lock()
	e.rt.closing = true
	_ = e.rt.io.Local().SocketsLeave(presenceRoom)
	e.rt.announceMu.Unlock()
	rec.start()
	bob := e.open("bob")
	for name, _ := bob.event(); name != "chat history"; name, _ = bob.event() {
		if name == "user" || name == "user count" {
			t.Errorf("bob, being closed with his server, heard %s", name)
		}
	}
	sent := rec.stop()
	if len(sent) != 2 || sent[0].event != "user count" || sent[1].event != "user" {
		t.Fatalf("broadcasts %+v, want bob's arrival: `user count`, `user`", sent)
	}
	for _, b := range sent {
		if !b.selects(stayRooms) || len(b.local) > 0 {
			t.Errorf("%s broadcast with %+v to %d sockets of this server; want only the sockets that stay (in %q)", b.event, b.opts, len(b.local), stayRooms)
		}
	}
}

// settle reads a tab's events until it has its history and has heard of
// the n-th user online.
func (tb *tab) settle(n int) {
	tb.t.Helper()
	history, last := false, false
	for !history || !last {
		name, arg := tb.event()
		switch name {
		case "chat history":
			history = true
		case "user":
			last = last || strings.Contains(arg, fmt.Sprintf(`"currentUsers":%d,`, n))
		}
	}
}

// recordingAdapter is the in-memory adapter that also records, while
// started, the events broadcast through it and to whom: the options a
// cluster adapter would carry to the other servers, and the sockets of
// this server they select.
type recordingAdapter struct {
	mu        sync.Mutex
	recording bool
	sent      []broadcast
	held      string        // a socket whose DelAll waits for release
	release   chan struct{} // closed at the first broadcast recorded
}

type broadcast struct {
	event, arg string
	opts       adapter.BroadcastOptions
	local      []adapter.SocketInfo // the sockets of this server selected
}

// hold makes the DelAll of socket id wait for the first broadcast recorded.
func (r *recordingAdapter) hold(id string) {
	r.mu.Lock()
	r.held, r.release = id, make(chan struct{})
	r.mu.Unlock()
}

// selects reports whether the broadcast reaches a socket in rooms.
func (b broadcast) selects(rooms []string) bool {
	in := func(list []string) bool {
		return slices.ContainsFunc(list, func(r string) bool { return slices.Contains(rooms, r) })
	}
	return (len(b.opts.Rooms) == 0 || in(b.opts.Rooms)) && !in(b.opts.Except)
}

func (r *recordingAdapter) factory(nsp adapter.Namespace) adapter.Adapter {
	return recordingNamespace{Adapter: adapter.NewInMemory(nsp), r: r}
}

func (r *recordingAdapter) start() {
	r.mu.Lock()
	r.recording = true
	r.mu.Unlock()
}

func (r *recordingAdapter) stop() []broadcast {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recording = false
	if r.release != nil {
		close(r.release)
		r.release = nil
	}
	return r.sent
}

type recordingNamespace struct {
	adapter.Adapter
	r *recordingAdapter
}

func (a recordingNamespace) Broadcast(ps []*parser.Packet, opts adapter.BroadcastOptions) error {
	// A cluster adapter carries each packet to the other servers.
	for _, p := range ps {
		var args []json.RawMessage
		if err := json.Unmarshal(p.Data, &args); err == nil && len(args) == 2 {
			b := broadcast{arg: string(args[1]), opts: opts}
			_ = json.Unmarshal(args[0], &b.event)
			b.local, _ = a.Adapter.FetchSockets(context.Background(), opts)
			a.r.mu.Lock()
			if a.r.recording {
				a.r.sent = append(a.r.sent, b)
				if a.r.release != nil {
					close(a.r.release)
					a.r.release = nil
				}
			}
			a.r.mu.Unlock()
		}
	}
	return a.Adapter.Broadcast(ps, opts)
}

func (a recordingNamespace) DelAll(id adapter.SocketID) {
	a.r.mu.Lock()
	var wait chan struct{}
	if id == a.r.held {
		wait = a.r.release
	}
	a.r.mu.Unlock()
	if wait != nil {
		<-wait
	}
	a.Adapter.DelAll(id)
}
