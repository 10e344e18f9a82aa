package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

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
		wg.Wait()
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
