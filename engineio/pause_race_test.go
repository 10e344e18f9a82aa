package engineio

import (
	"sync"
	"testing"
	"time"

	"switchboard/internal/testclient"
)

// PauseReading and ResumeReading from two goroutines (the reader pausing, a
// worker resuming) may run in either order, but the WebSocket must end in
// the state the session records: not paused while the session thinks it
// reads (the client would hang), nor reading while it thinks it is paused.
func TestConcurrentPauseAndResumeLeaveTheWebSocketConsistent(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = time.Minute
	ts := startEcho(t, opts)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	s := ts.h.session(t, 0)
	// 60,000 rounds take about 3 s under -race with Go 1.26, over 10 s with
	// Go 1.27's race detector: the rounds stop after 5 s (well inside the
	// test client's 10 s deadline), however many that made.
	start := time.Now()
	for i := 0; i < 60000 && time.Since(start) < 5*time.Second; i++ {
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); s.PauseReading() }()
		go func() { defer wg.Done(); s.ResumeReading() }()
		wg.Wait()
		s.ResumeReading() // whichever ran last, the session reads now
		c.Text("4x")
		if msg, _, err := c.TryRead(time.Second); err != nil || msg != "4x" {
			t.Fatalf("iteration %d: the WebSocket is not read after ResumeReading: %q %v", i, msg, err)
		}
	}
}
