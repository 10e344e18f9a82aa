package realtime

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/chat"
)

// ask sends "online users" and returns the answer, skipping the events
// that arrive before it.
func (tb *tab) ask() onlineList {
	tb.t.Helper()
	tb.Text(`42["online users"]`)
	var l onlineList
	if err := json.Unmarshal([]byte(tb.expect("online users")), &l); err != nil {
		tb.t.Fatal(err)
	}
	return l
}

// waitCount reads events until "user count" announces n.
func (tb *tab) waitCount(n int) {
	tb.t.Helper()
	for {
		if name, arg := tb.event(); name == "user count" && arg == strconv.Itoa(n) {
			return
		}
	}
}

func usernames(l onlineList) string {
	var names []string
	for _, u := range l.Users {
		names = append(names, u.Username)
	}
	return fmt.Sprintf("%v (%d)", names, l.Count)
}

// "online users" answers who presence counts online, sorted by name
// ignoring case, each user once however many tabs they have, and at most
// maxListed of them with the number online; more than 5 questions a second
// (after 10) are refused.
func TestOnlineUsersAnswersWhoIsOnline(t *testing.T) {
	// Tabs that nobody reads answer no ping: a slow machine must not count
	// them out before the test asks.
	e := newEnvWith(t, func(c *Config) { c.PingInterval, c.PingTimeout = time.Minute, time.Minute })
	e.addUser("Carol")
	for i := range maxListed { // before any socket: the env's users are not locked
		e.addUser(fmt.Sprintf("user%03d", i))
	}
	alice := e.open("alice")
	alice.expect("chat history")
	if got := usernames(alice.ask()); got != "[alice] (1)" {
		t.Fatalf("alone: %s", got)
	}
	carol := e.open("Carol")
	bob := e.open("bob")
	e.open("bob") // a second tab
	alice.expect("user")
	alice.expect("user")
	if got := usernames(alice.ask()); got != "[alice bob Carol] (3)" {
		t.Fatalf("three: %s", got)
	}
	bob.Close() // bob's other tab keeps him online
	carol.Close()
	alice.expectExactly("user count", "2")
	alice.expectExactly("user", `{"username":"Carol","name":"Carol","currentUsers":2,"connected":false}`)
	if got := usernames(alice.ask()); got != "[alice bob] (2)" {
		t.Fatalf("after Carol left: %s", got)
	}

	for i := range maxListed {
		e.open(fmt.Sprintf("user%03d", i))
	}
	alice.waitCount(maxListed + 2) // a CONNECT is answered before its user is counted
	l := alice.ask()
	if len(l.Users) != maxListed || l.Count != maxListed+2 || l.Users[0].Username != "alice" || l.Users[1].Username != "bob" || l.Users[maxListed-1].Username != "user097" {
		t.Fatalf("with %d online: %d listed, count %d, first %v, last %v", maxListed+2, len(l.Users), l.Count, l.Users[0], l.Users[len(l.Users)-1])
	}

	// Asking far more than 5 a second is refused aloud.
	for range 30 {
		alice.Text(`42["online users"]`)
	}
	for range 30 {
		if name, arg := alice.event(); name == "error message" && strings.Contains(arg, `"rate_limit"`) {
			return
		}
	}
	t.Error("30 questions at once, none refused")
}

func TestOnlineKeepsItsOrderAndForgetsByUser(t *testing.T) {
	var o online
	users := []*chat.User{
		{ID: 1, Username: "zed", Name: "Ann"},
		{ID: 2, Username: "bob"},
		{ID: 3, Username: "ann"},
		{ID: 4, Username: "amy", Name: "ann"}, // same name as ann: then by username
	}
	for _, u := range users {
		o.add(u)
	}
	o.add(users[1]) // twice: once
	if got := usernames(o.first(10)); got != "[amy ann zed bob] (4)" {
		t.Fatalf("sorted: %s", got)
	}
	users[0].Name = "Zoe" // renamed while online: still found by its user
	o.remove(1)
	o.remove(99) // not online: nothing
	if got := usernames(o.first(2)); got != "[amy ann] (3)" {
		t.Fatalf("after a removal, first 2: %s", got)
	}
}
