//go:build linux

package wsconn

import (
	"bytes"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"
	"golang.org/x/sys/unix"
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

// blocker is an echoing Handler whose "block" message holds its loop for a
// while, so that events pile up behind it.
type blocker struct{ hold time.Duration }

func (b blocker) OnMessage(c *Conn, data []byte, binary bool) {
	if string(data) == "block" {
		time.Sleep(b.hold)
	}
	_ = c.Send(true, AppendFrame(nil, !binary, data))
}

func (blocker) OnClose(*Conn, error) {}

// More connections become ready while the loop is busy than one epoll_wait
// returns (256): the loop must take them all before it parks again, since
// the runtime's poller reports the epoll descriptor edge-triggered.
func TestMoreReadyConnectionsThanOneWaitReturns(t *testing.T) {
	for _, blocking := range []bool{false, true} {
		t.Run(map[bool]string{false: "parked", true: "blocking-wait"}[blocking], func(t *testing.T) {
			manyReadyConnections(t, &Options{Pollers: 1, blockingWait: blocking})
		})
	}
}

func manyReadyConnections(t *testing.T, opts *Options) {
	const n = 600
	s := startServer(t, opts, func() Handler { return blocker{hold: 300 * time.Millisecond} })
	conns := make([]net.Conn, n)
	for i := range conns {
		conns[i] = dial(t, s)
	}
	if err := wsutil.WriteClientText(conns[0], []byte("block")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // the loop is now inside the handler
	for i, c := range conns[1:] {
		if err := wsutil.WriteClientText(c, []byte("m"+strconv.Itoa(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range conns {
		want := "m" + strconv.Itoa(i)
		if i == 0 {
			want = "block"
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got, err := wsutil.ReadServerText(c); err != nil || string(got) != want {
			t.Fatalf("connection %d: got %q, %v; want %q", i, got, err, want)
		}
	}
}

// gate is a Handler whose OnMessage waits until released.
type gate struct {
	in      chan *Conn
	release chan struct{}
}

func (g gate) OnMessage(c *Conn, _ []byte, _ bool) {
	g.in <- c
	<-g.release
}

func (gate) OnClose(*Conn, error) {}

// Bytes the loop has read but whose handling has not ended still count as
// unread: a caller asking whether the peer's earlier bytes were handled (the
// upgrade's late poll, the heartbeat) must not take the read for the end.
func TestBytesBeingHandledCountAsUnread(t *testing.T) {
	g := gate{in: make(chan *Conn, 1), release: make(chan struct{})}
	s := startServer(t, &Options{}, func() Handler { return g })
	c := dial(t, s)
	if err := wsutil.WriteClientText(c, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	conn := <-g.in // the loop has read the frame and is handling it
	unread := conn.Unread()
	close(g.release)
	if !unread {
		t.Fatal("Unread() = false while the handler runs")
	}
	deadline := time.Now().Add(5 * time.Second)
	for conn.Unread() {
		if time.Now().After(deadline) {
			t.Fatal("Unread() still true after the handler returned")
		}
		time.Sleep(time.Millisecond)
	}
}

// ResumeReading after the engine closed (a handler finishing late) never
// writes to the loop's wake descriptor: its number may belong to another
// file by then — here, deliberately, the write end of a pipe.
func TestResumeAfterEngineCloseWritesNowhere(t *testing.T) {
	s := startServer(t, &Options{}, func() Handler { return newRecorder(false) })
	dial(t, s)
	var conn *Conn
	for deadline := time.Now().Add(5 * time.Second); conn == nil; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no connection")
		}
		s.mu.Lock()
		if len(s.conns) > 0 {
			conn = s.conns[0]
		}
		s.mu.Unlock()
	}
	conn.PauseReading()
	wake := conn.loop.wakefd
	s.eng.Close()
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[0])
	defer unix.Close(p[1])
	if err := unix.Dup3(p[1], wake, unix.O_CLOEXEC); err != nil { // wake's number is the pipe now
		t.Fatal(err)
	}
	defer unix.Close(wake)
	conn.ResumeReading()
	var buf [16]byte
	if n, err := unix.Read(p[0], buf[:]); err != unix.EAGAIN {
		t.Fatalf("%d bytes written to a descriptor the engine had closed (%v)", n, err)
	}
}
