package realtime

import (
	"fmt"
	"testing"
	"time"
)

// countUntil reads events until name, returning how many of event came
// before it.
func (tb *tab) countUntil(event, name string) int {
	tb.t.Helper()
	n := 0
	for {
		got, _ := tb.event()
		switch got {
		case name:
			return n
		case event:
			n++
		}
	}
}

// A user's "typing" notice reaches the others, not their own tab; a user
// sending many at once is heard at most three times in a moment; and with
// more than typingMaxOnline users online nobody is told.
func TestTypingIsShownToTheOthers(t *testing.T) {
	// Tabs that nobody reads answer no ping: a slow machine must not count
	// them out.
	e := newEnvWith(t, func(c *Config) { c.PingInterval, c.PingTimeout = time.Minute, time.Minute })
	e.addUser("carol")
	for i := range typingMaxOnline {
		e.addUser(fmt.Sprintf("crowd%02d", i))
	}
	alice, bob, carol := e.open("alice"), e.open("bob"), e.open("carol")
	for _, tb := range []*tab{alice, bob, carol} {
		tb.expect("chat history")
	}
	bob.Text(`42["typing"]`)
	for _, tb := range []*tab{alice, carol} {
		if got := tb.expect("typing"); got != `{"username":"bob","name":"bob"}` {
			t.Fatalf("typing: %s", got)
		}
	}
	bob.Text(`42["chat message","done"]`)
	if n := bob.countUntil("typing", "chat message"); n != 0 {
		t.Fatalf("bob heard his own typing %d times", n)
	}
	if n := alice.countUntil("typing", "chat message"); n != 0 {
		t.Fatalf("alice heard bob typing %d more times", n)
	}

	for range 20 {
		bob.Text(`42["typing"]`)
	}
	bob.Text(`42["chat message","flood"]`)
	if n := alice.countUntil("typing", "chat message"); n < 1 || n > 3 {
		t.Fatalf("20 notices at once: alice heard %d, want 1 to 3", n)
	}

	for i := range typingMaxOnline {
		e.open(fmt.Sprintf("crowd%02d", i))
	}
	alice.waitCount(typingMaxOnline + 3) // a CONNECT is answered before its user is counted
	time.Sleep(1100 * time.Millisecond)  // bob's notices come back
	bob.Text(`42["typing"]`)
	bob.Text(`42["chat message","in a crowd"]`)
	if n := alice.countUntil("typing", "chat message"); n != 0 {
		t.Fatalf("with %d online alice heard bob typing %d times", typingMaxOnline+3, n)
	}
}
