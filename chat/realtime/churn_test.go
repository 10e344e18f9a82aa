package realtime

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/internal/testclient"
)

// churnTab is a tab whose connection is read by its own goroutine, which
// answers pings until the tab leaves in one of the ways a tab goes. Reads
// block (a read deadline in the middle of a frame would lose its bytes);
// writes, from that goroutine and from leave, take wmu.
type churnTab struct {
	c       *testclient.Conn
	wmu     sync.Mutex
	leaving atomic.Bool // errors are expected from now on
	lost    atomic.Bool // no more pongs
	done    chan struct{}
}

func (tb *churnTab) text(msg string) error {
	tb.wmu.Lock()
	defer tb.wmu.Unlock()
	return tb.c.TryText(msg, time.Second)
}

// leave ends the tab: "close" (a closed tab: the connection ends),
// "namespace" (socket.disconnect(): the connection stays a moment, then
// goes) or "lost" (the network is gone: no pong, nothing, until the
// server's ping timeout closes the connection).
func (tb *churnTab) leave(how string) {
	if tb.leaving.Swap(true) {
		return
	}
	switch how {
	case "close":
		tb.c.Close()
	case "namespace":
		_ = tb.text("41")
		time.AfterFunc(50*time.Millisecond, tb.c.Close)
	case "lost":
		tb.lost.Store(true)
	}
}

// openChurnTab connects user's tab; its goroutine reports on errs what
// goes wrong while the tab is live.
func (e *env) openChurnTab(user string, errs chan<- error) (*churnTab, error) {
	c, err := e.dial(user, nil)
	if err != nil {
		return nil, err
	}
	if _, _, err := c.TryRead(5 * time.Second); err != nil { // open packet
		return nil, err
	}
	if err := c.TryText("40", time.Second); err != nil {
		return nil, err
	}
	for {
		msg, _, err := c.TryRead(5 * time.Second)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(msg, "40") {
			if !strings.HasPrefix(msg, `40{"sid":`) {
				return nil, fmt.Errorf("CONNECT reply %q", msg)
			}
			break
		}
		if msg == "2" {
			_ = c.TryText("3", time.Second)
		}
	}
	tb := &churnTab{c: c, done: make(chan struct{})}
	go func() {
		defer close(tb.done)
		defer c.Close()
		for {
			msg, _, err := c.TryRead(time.Minute)
			if err != nil {
				if !tb.leaving.Load() {
					errs <- fmt.Errorf("%s's tab: %w", user, err)
				}
				return
			}
			if msg == "2" && !tb.lost.Load() {
				if err := tb.text("3"); err != nil && !tb.leaving.Load() {
					errs <- fmt.Errorf("%s's tab: pong: %w", user, err)
					return
				}
			}
		}
	}()
	return tb, nil
}

// Presence under churn: users open and close tabs at random, concurrently,
// in every way a tab goes — closed, disconnected from the namespace, its
// network lost (found by the ping timeout). An observer sees each change
// announced in the order it happened: the count steps by one, each "user"
// event carries the count just announced and says joined when it went up,
// a user's joins and departures alternate. Once everything has settled the
// count is the number of users with a tab open.
func TestPresenceUnderChurn(t *testing.T) {
	// A pong window of a second: a busy machine must not count a live tab
	// out; a lost one is counted out within 1.3 s.
	e := newEnvWith(t, func(c *Config) { c.PingInterval, c.PingTimeout = 300*time.Millisecond, time.Second })
	const users, steps, maxTabs = 6, 30, 2
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	var names []string
	for i := range users {
		name := fmt.Sprintf("churn%d", i)
		e.addUser(name)
		names = append(names, name)
	}
	obs := e.open("alice")
	obs.expect("chat history")
	type seen struct {
		name string
		arg  string
	}
	events := make(chan seen, 4096)
	obsDone := make(chan struct{})
	var obsWrite sync.Mutex // the observer's pongs, and the test's question
	// Blocking reads, until the test closes the connection.
	go func() {
		defer close(obsDone)
		for {
			msg, _, err := obs.TryRead(time.Minute)
			if err != nil {
				return
			}
			if msg == "2" {
				obsWrite.Lock()
				_ = obs.TryText("3", time.Second)
				obsWrite.Unlock()
				continue
			}
			var parts []json.RawMessage
			if !strings.HasPrefix(msg, "42") || json.Unmarshal([]byte(msg[2:]), &parts) != nil || len(parts) < 2 {
				events <- seen{"malformed", msg}
				continue
			}
			var name string
			_ = json.Unmarshal(parts[0], &name)
			events <- seen{name, string(parts[1])}
		}
	}()
	t.Cleanup(func() {
		obs.Close()
		<-obsDone
	})

	errs := make(chan error, 64)
	live := make([]int, users) // tabs still open per user at the end
	var mu sync.Mutex
	var all []*churnTab
	t.Cleanup(func() { // every tab's goroutine is gone before the test ends
		mu.Lock()
		defer mu.Unlock()
		for _, tb := range all {
			tb.leave("close")
			<-tb.done
		}
	})
	var wg sync.WaitGroup
	for u, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(u)))
			var tabs []*churnTab
			for range steps {
				if len(tabs) == 0 || (len(tabs) < maxTabs && rng.IntN(3) == 0) {
					tb, err := e.openChurnTab(name, errs)
					if err != nil {
						errs <- fmt.Errorf("%s: open: %w", name, err)
						return
					}
					tabs = append(tabs, tb)
					mu.Lock()
					all = append(all, tb)
					mu.Unlock()
				} else {
					i := rng.IntN(len(tabs))
					tabs[i].leave([]string{"close", "namespace", "lost"}[rng.IntN(3)])
					tabs = append(tabs[:i], tabs[i+1:]...)
				}
				time.Sleep(time.Duration(rng.IntN(30)) * time.Millisecond)
			}
			live[u] = len(tabs)
		}()
	}
	// Meanwhile the observer asks who is online, again and again: each
	// answer must name exactly who the announcements before it left online.
	asking := make(chan struct{})
	asked := make(chan int)
	go func() {
		n := 0
		defer func() { asked <- n }()
		for {
			select {
			case <-asking:
				return
			case <-time.After(100 * time.Millisecond): // within the limit, 5 a second after 10
			}
			obsWrite.Lock()
			err := obs.TryText(`42["online users"]`, time.Second)
			obsWrite.Unlock()
			if err != nil {
				errs <- err
				return
			}
			n++
		}
	}()
	wg.Wait()
	close(asking)
	questions := <-asked
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	want := 1 // alice
	for _, n := range live {
		if n > 0 {
			want++
		}
	}

	// Follow the announcements until the count settles at want (lost
	// tabs take a ping interval and timeout, 1.3 s, to be counted out).
	count := 1
	online := map[string]bool{"alice": true}
	deadline := time.After(10 * time.Second)
	settled := time.NewTimer(time.Hour)
	var log []string // what the observer heard, for a failure's message
	fatalf := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nheard:\n%s", fmt.Sprintf(format, args...), strings.Join(log, "\n"))
	}
	// checkAnswer fails the test unless an "online users" answer names the
	// users announced online so far.
	answers := 0
	checkAnswer := func(arg string) {
		t.Helper()
		var l onlineList
		if err := json.Unmarshal([]byte(arg), &l); err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, u := range l.Users {
			listed = append(listed, u.Username)
		}
		slices.Sort(listed)
		want := trueKeys(online)
		slices.Sort(want)
		if !slices.Equal(listed, want) || l.Count != count {
			fatalf("online users %v (count %d) after the announcements of %v (count %d)", listed, l.Count, want, count)
		}
	}
	for done := false; !done; {
		select {
		case ev := <-events:
			log = append(log, ev.name+" "+ev.arg)
			switch ev.name {
			case "user count":
				n, err := jsonInt(ev.arg)
				if err != nil || (n != count+1 && n != count-1) {
					fatalf("user count %s announced after %d", ev.arg, count)
				}
				count = n
			case "user":
				var u userEvent
				if err := json.Unmarshal([]byte(ev.arg), &u); err != nil {
					t.Fatal(err)
				}
				if u.CurrentUsers != count {
					fatalf("%s announced with currentUsers %d right after user count %d", u.Username, u.CurrentUsers, count)
				}
				if online[u.Username] == u.Connected {
					fatalf("%s announced connected=%v twice in a row", u.Username, u.Connected)
				}
				online[u.Username] = u.Connected
				if n := len(trueKeys(online)); n != count {
					fatalf("count %d, but %d users announced online: %v", count, n, trueKeys(online))
				}
			case "online users":
				answers++
				checkAnswer(ev.arg)
			case "error message": // a question refused, on a slow machine
				if !strings.Contains(ev.arg, `"rate_limit"`) {
					fatalf("unexpected error message %s", ev.arg)
				}
				answers++
			default:
				fatalf("unexpected event %q %s", ev.name, ev.arg)
			}
			if count == want && answers == questions {
				settled.Reset(time.Second) // and stays there
			} else {
				settled.Reset(time.Hour)
			}
		case <-settled.C:
			done = true
		case err := <-errs:
			t.Fatal(err)
		case <-deadline:
			t.Fatalf("count %d after 10 s, want %d (online %v; tabs left %v)", count, want, trueKeys(online), live)
		}
	}
	announced := 0
	for _, l := range log {
		if strings.HasPrefix(l, "user ") {
			announced++
		}
	}
	t.Logf("%d users' tabs, %d steps each: %d joins and departures announced, %d questions answered; %d online at the end", users, steps, announced, answers, want)
	if announced < users {
		t.Errorf("only %d joins and departures announced: the churn did not churn", announced)
	}
	for u, name := range names {
		if online[name] != (live[u] > 0) {
			t.Errorf("%s: announced online %v with %d tabs open", name, online[name], live[u])
		}
	}

	// "online users" names the same users.
	obsWrite.Lock()
	err := obs.TryText(`42["online users"]`, time.Second)
	obsWrite.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	ev := <-events
	if ev.name != "online users" {
		fatalf("unexpected event %q %s", ev.name, ev.arg)
	}
	checkAnswer(ev.arg)
}

func trueKeys(m map[string]bool) []string {
	var keys []string
	for k, v := range m {
		if v {
			keys = append(keys, k)
		}
	}
	return keys
}
