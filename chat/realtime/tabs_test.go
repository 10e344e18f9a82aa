package realtime

import (
	"strings"
	"testing"
	"time"
)

// One user may keep at most MaxTabsPerUser sockets open: one more is
// refused with a connect_error that says why (the page shows it), which
// keeps one account from holding the server's memory and file descriptors;
// closing a tab frees its place, and other users are not affected.
func TestTabsPerUserAreLimited(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.MaxTabsPerUser = 2 })
	first := e.open("alice")
	e.open("alice")

	refused := func() string {
		c, err := e.dial("alice", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.ReadText() // open packet
		c.Text("40")
		return c.ReadSkippingPongs()
	}
	if got := refused(); !strings.HasPrefix(got, `44{"message":"Too many chat tabs open`) || !strings.Contains(got, `"limit":2`) {
		t.Fatalf("a third tab got %q, want a connect_error about too many tabs", got)
	}
	e.open("bob") // another user is not limited by alice's tabs

	first.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		got := refused()
		if strings.HasPrefix(got, `40{"sid":`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a tab closed, and a new one still gets %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A negative limit means none.
func TestNegativeTabLimitMeansNone(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.MaxTabsPerUser = -1 })
	for range 40 {
		e.open("alice")
	}
}
