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
