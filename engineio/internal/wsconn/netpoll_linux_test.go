//go:build linux

package wsconn

import (
	"bytes"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
)

// osThreads is the process's number of OS threads.
func osThreads(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
			n, err := strconv.Atoi(string(bytes.TrimSpace(v)))
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no Threads line in /proc/self/status")
	return 0
}

// Idle epoll loops park on the runtime's poller: a loop waiting for events
// holds no OS thread (a thread blocked in epoll_wait would also hold a P until
// the scheduler's sysmon took it back, see rawCalls), yet wakes when a
// connection has data.
func TestIdleLoopsHoldNoThreads(t *testing.T) {
	const pollers = 32
	before := osThreads(t)
	s := startServer(t, &Options{Pollers: pollers}, func() Handler { return newRecorder(true) })
	for range pollers { // one connection per loop: every loop started and waiting
		c := dial(t, s)
		if err := wsutil.WriteClientText(c, []byte("hi")); err != nil {
			t.Fatal(err)
		}
		if got, err := wsutil.ReadServerText(c); err != nil || string(got) != "hi" {
			t.Fatalf("echo: %q %v", got, err)
		}
	}
	time.Sleep(50 * time.Millisecond) // let the loops go back to waiting
	if after := osThreads(t); after-before >= pollers/2 {
		t.Fatalf("%d idle loops hold threads: %d threads before, %d after", pollers, before, after)
	}
}
