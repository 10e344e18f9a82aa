package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
)

// addUser creates an account; call it before any socket authenticates.
func (e *env) addUser(name string) {
	e.t.Helper()
	u := &chat.User{Username: name, PasswordHash: []byte("x")}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	e.users[name] = u
}

// Users joining at the same time each announce the count their own join
// produced; an observer must see the counts in the order they happened
// (1, 2, 3, …), never a join announced with a smaller count after a larger
// one — the page would show the stale number until the next change.
func TestConcurrentJoinsAnnounceCountsInOrder(t *testing.T) {
	const joiners = 8
	for iter := 0; iter < 30; iter++ {
		e := newEnv(t)
		var names []string
		for i := 0; i < joiners; i++ {
			name := fmt.Sprintf("user%d", i)
			e.addUser(name)
			names = append(names, name)
		}
		obs := e.open("alice")
		obs.expect("chat history")
		var conns []*tab
		for _, name := range names {
			c, err := e.dial(name, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.ReadText() // open packet
			conns = append(conns, &tab{Conn: c, t: t})
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				c.Text("40")
			}()
		}
		close(start)
		wg.Wait()

		lastCount := 1
		var joined int
		for joined < joiners {
			name, arg := obs.event()
			switch name {
			case "user count":
				n, _ := jsonInt(arg)
				if n <= lastCount {
					t.Fatalf("iteration %d: user count %d announced after %d", iter, n, lastCount)
				}
				lastCount = n
			case "user":
				var u userEvent
				if err := json.Unmarshal([]byte(arg), &u); err != nil {
					t.Fatal(err)
				}
				if u.CurrentUsers != lastCount {
					t.Fatalf("iteration %d: %s announced with currentUsers %d right after user count %d", iter, u.Username, u.CurrentUsers, lastCount)
				}
				joined++
			}
		}
		if lastCount != joiners+1 {
			t.Fatalf("iteration %d: final count %d, want %d", iter, lastCount, joiners+1)
		}
		for _, c := range conns {
			c.Close()
		}
	}
}

func jsonInt(s string) (int, error) {
	var n int
	err := json.Unmarshal([]byte(strings.TrimSpace(s)), &n)
	return n, err
}

// Messages posted at the same time by different users must be broadcast in
// the order they are stored: the live order and the history a later tab
// replays (from the store) must agree.
func TestConcurrentMessagesAreBroadcastInStoredOrder(t *testing.T) {
	const posters, each = 5, 10
	for iter := 0; iter < 10; iter++ {
		e := newEnv(t)
		var tabs []*tab
		for i := 0; i < posters; i++ {
			name := fmt.Sprintf("poster%d", i)
			e.addUser(name)
		}
		obs := e.open("alice")
		obs.expect("chat history")
		for i := 0; i < posters; i++ {
			tb := e.open(fmt.Sprintf("poster%d", i))
			tb.expect("chat history")
			tabs = append(tabs, tb)
		}
		postAtOnce(tabs, each)()
		var live []string
		for len(live) < posters*each {
			name, arg := obs.event()
			if name != "chat message" {
				continue
			}
			var m chatMessage
			if err := json.Unmarshal([]byte(arg), &m); err != nil {
				t.Fatal(err)
			}
			live = append(live, m.Message)
		}
		stored, err := e.rt.cfg.Messages.RecentMessages(context.Background(), posters*each)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range stored {
			if live[i] != m.Text {
				t.Fatalf("iteration %d: message %d broadcast as %q but stored as %q", iter, i, live[i], m.Text)
			}
		}
		for _, tb := range tabs {
			tb.Close()
		}
	}
}

// A tab that joins while others are posting gets every message exactly once
// and in order: the ones stored before it joined in its "chat history",
// the later ones live — none in both, none in neither.
func TestATabJoiningDuringPostsGetsEveryMessageOnce(t *testing.T) {
	const posters, each = 4, 10
	for iter := 0; iter < 10; iter++ {
		e := newEnv(t)
		var tabs []*tab
		for i := 0; i < posters; i++ {
			e.addUser(fmt.Sprintf("poster%d", i))
		}
		for i := 0; i < posters; i++ {
			tb := e.open(fmt.Sprintf("poster%d", i))
			tb.expect("chat history")
			tabs = append(tabs, tb)
		}
		c, err := e.dial("alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		joiner := &tab{Conn: c, t: t}
		joiner.ReadText() // open packet
		wait := postAtOnce(tabs, each)
		joiner.Text("40") // joins while the posts are flowing
		wait()
		// Every message is broadcast once the first poster has seen them all.
		for n := 0; n < posters*each; {
			if name, _ := tabs[0].event(); name == "chat message" {
				n++
			}
		}
		stored, err := e.rt.cfg.Messages.RecentMessages(context.Background(), posters*each)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for len(got) < len(stored) {
			msg, _, err := joiner.TryRead(time.Second)
			if err != nil {
				t.Fatalf("iteration %d: joiner got %d of %d messages (%v): %q", iter, len(got), len(stored), err, got)
			}
			if msg == "2" {
				joiner.Text("3")
				continue
			}
			if !strings.HasPrefix(msg, "42[") {
				continue
			}
			var parts []json.RawMessage
			if err := json.Unmarshal([]byte(msg[2:]), &parts); err != nil {
				t.Fatal(err)
			}
			var name string
			_ = json.Unmarshal(parts[0], &name)
			switch name {
			case "chat history":
				var items []chatMessage
				_ = json.Unmarshal(parts[1], &items)
				for _, m := range items {
					got = append(got, m.Message)
				}
			case "chat message":
				var m chatMessage
				_ = json.Unmarshal(parts[1], &m)
				got = append(got, m.Message)
			}
		}
		for i, m := range stored {
			if got[i] != m.Text {
				t.Fatalf("iteration %d: the joiner's message %d is %q, stored %q (got %q)", iter, i, got[i], m.Text, got)
			}
		}
		if msg, _, err := joiner.TryRead(100 * time.Millisecond); err == nil && strings.Contains(msg, "chat message") {
			t.Fatalf("iteration %d: joiner got an extra %q", iter, msg)
		}
		for _, tb := range append(tabs, joiner) {
			tb.Close()
		}
	}
}

// A message broadcast while a new tab is between joining the room and
// receiving its history reaches that tab once, not live and again in the
// history.
func TestAMessagePostedWhileATabJoinsIsNotDuplicated(t *testing.T) {
	e := newEnv(t)
	bob := e.open("bob")
	bob.expect("chat history")
	entered, release := make(chan struct{}), make(chan struct{})
	hook := func() {
		close(entered)
		<-release
	}
	testHookBeforeHistory.Store(&hook)
	defer testHookBeforeHistory.Store(nil)
	alice := e.open("alice")
	<-entered
	bob.Text(`42["chat message","while alice joins"]`)
	bob.expect("chat message") // stored and broadcast
	close(release)

	var got []string
	for deadline := time.Now().Add(500 * time.Millisecond); time.Now().Before(deadline); {
		msg, _, err := alice.TryRead(time.Until(deadline))
		if err != nil {
			break
		}
		if msg == "2" {
			alice.Text("3")
			continue
		}
		if strings.Contains(msg, "while alice joins") {
			got = append(got, msg)
		}
	}
	if len(got) != 1 {
		t.Fatalf("alice got the message %d times: %q", len(got), got)
	}
}

// logout ends a session as the web layer does: the session is gone from
// the store, then its sockets are disconnected.
func (e *env) logout(user string) {
	e.ended.Store("session-of-"+user, true)
	e.rt.EndSession("session-of-" + user)
}

// A socket whose cookie was checked just before its session was logged out
// must not stay connected (and counted online) after the logout.
func TestLogoutDuringASocketsAuthenticationDisconnectsIt(t *testing.T) {
	e := newEnv(t)
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	hook := func() {
		once.Do(func() {
			close(entered)
			<-release
		})
	}
	e.afterAuth.Store(&hook)
	c, err := e.dial("alice", nil)
	if err != nil {
		t.Fatal(err)
	}
	alice := &tab{Conn: c, t: t}
	alice.ReadText() // open packet
	alice.Text("40")
	<-entered // alice's session was found valid…
	e.logout("alice")
	close(release) // …and logged out before her socket connected

	var ended bool
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline) && !ended; {
		msg, _, err := alice.TryRead(time.Until(deadline))
		if err != nil {
			var ne net.Error
			ended = !errors.As(err, &ne) || !ne.Timeout() // the connection closed
			break
		}
		if msg == "2" {
			alice.Text("3")
		}
		ended = msg == "41" || strings.HasPrefix(msg, "44")
	}
	if !ended {
		t.Fatal("the logged-out socket is still connected")
	}
	for deadline := time.Now().Add(time.Second); e.rt.presence.Online(e.users["alice"].ID); {
		if time.Now().After(deadline) {
			t.Fatal("the logged-out user is still counted online")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A message whose text is not valid Unicode (a lone UTF-16 surrogate, as
// a JavaScript string cut in the middle of an emoji carries, or raw bytes
// that are not UTF-8) is refused, not stored with the bad part silently
// replaced by U+FFFD.
func TestMessagesThatAreNotValidUnicodeAreRefused(t *testing.T) {
	e := newEnv(t)
	alice := e.open("alice")
	alice.expect("chat history")
	for i, bad := range []string{`"a\ud800b"`, `"a\udc00\ud83d"`, `"\ud83d"`} {
		alice.Text(`42` + string(rune('1'+i)) + `["chat message",` + bad + `]`)
		for {
			msg := alice.ReadSkippingPongs()
			if strings.HasPrefix(msg, "42") {
				t.Fatalf("%s was broadcast: %q", bad, msg)
			}
			if !strings.HasPrefix(msg, "43"+string(rune('1'+i))+`[{"code":"invalid","error":"`) {
				t.Fatalf("%s: ack %q", bad, msg)
			}
			break
		}
	}
	// Genuine replacement characters and paired surrogates are fine.
	alice.Text(`424["chat message","\ufffd � \ud83d\ude00"]`)
	if arg := alice.expect("chat message"); !strings.Contains(arg, "\"message\":\"� � 😀\"") {
		t.Fatalf("broadcast %s", arg)
	}
	stored, err := e.rt.cfg.Messages.RecentMessages(context.Background(), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 {
		t.Fatalf("%d messages stored", len(stored))
	}
}

// postAtOnce has every tab send each messages ("m<tab>-<n>"), all tabs at
// the same time; the returned func waits until all are sent.
func postAtOnce(tabs []*tab, each int) (wait func()) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tb := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for j := 0; j < each; j++ {
				tb.Text(fmt.Sprintf(`42["chat message","m%d-%d"]`, i, j))
			}
		}()
	}
	close(start)
	return wg.Wait
}
