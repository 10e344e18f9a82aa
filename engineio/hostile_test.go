package engineio

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/testclient"
)

// Hostile clients at the Engine.IO layer, written with raw HTTP and TCP.

// rawRequest opens a TCP connection to ts and writes head (a request
// without its body, or with part of it).
func rawRequest(t *testing.T, ts *testServer, head string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(ts.http.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChunkedPollingBodyOverTheLimitGets413(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxHTTPBufferSize = 1000
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	// No Content-Length: the limit holds while reading.
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 100; i++ {
			if _, err := pw.Write([]byte("4" + strings.Repeat("x", 99))); err != nil {
				return
			}
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", ts.url("EIO=4&transport=polling&sid="+sid), pr)
	res, err := http.DefaultClient.Do(req)
	pr.Close()
	// The server answers 413 and closes the connection without reading the
	// rest (a body of unknown length could be endless): a client still
	// writing may see the reset before the answer. Either way the session
	// ends.
	switch {
	case err != nil && (errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)):
	case err != nil:
		t.Fatal(err)
	default:
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
			t.Fatalf("status %d (content length %d)", res.StatusCode, req.ContentLength)
		}
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

// A POST whose body never comes (or trickles) holds a request; it must not
// outlive its session, which times out since the client cannot answer pings
// while its POST is unfinished.
func TestStalledPollingBodyEndsWithItsSession(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	c := rawRequest(t, ts, "POST /engine.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\n"+
		"Host: x\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n4hel")
	if r := ts.h.waitReason(t); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	// The request ends too: answered or cut, not left reading forever.
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("the stalled POST outlived its session")
	}
}

func TestConcurrentPollsOnOneSessionAllReturn(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	before := runtime.NumGoroutine()
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for range 50 {
		wg.Go(func() {
			code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
			codes <- code
		})
	}
	wg.Wait()
	close(codes)
	bad := 0
	for code := range codes {
		if code == http.StatusBadRequest {
			bad++
		}
	}
	if bad == 0 {
		t.Fatal("overlapping polls were all accepted")
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, func() bool { return runtime.NumGoroutine() <= before && ts.Count() == 0 })
}

// Handshakes never followed by anything: each session lives until its first
// ping times out, then nothing is left of it.
func TestAbandonedHandshakesAreReleased(t *testing.T) {
	h := &closeCounter{}
	ts := startEchoWith(t, NewServer(h, fixtureOptions()))
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range 200 {
		ts.openPolling(t)
	}
	for range 50 {
		c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
		c.Read() // the open packet; then silence
	}
	waitFor(t, func() bool { return h.opened.Load() == 250 })
	waitFor(t, func() bool { return ts.Count() == 0 && ts.ws.Live() == 0 && h.closed.Load() == 250 })
	http.DefaultClient.CloseIdleConnections()
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 1<<20 {
		t.Fatalf("250 abandoned sessions left %d KiB behind", grown>>10)
	}
}

// Huge query strings and headers are bounded by the http.Server (1 MiB of
// headers by default); what passes is answered normally.
func TestHugeQueryStringIsAnswered(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	q := "EIO=4&transport=polling&" + strings.Repeat("sid=x&", 50_000)
	c := rawRequest(t, ts, "GET /engine.io/?"+q+" HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || string(body) != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
}

// closeCounter is a Handler that keeps nothing and counts opens and closes.
type closeCounter struct{ opened, closed atomic.Int64 }

func (h *closeCounter) OnOpen(*Session)                      { h.opened.Add(1) }
func (h *closeCounter) OnMessage(*Session, []byte, bool)     {}
func (h *closeCounter) OnClose(*Session, CloseReason, error) { h.closed.Add(1) }

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A second WebSocket while one is probing is closed at once (Node: "already
// upgrading"); repeated probes are each answered, as in Node; the first
// WebSocket still upgrades.
func TestConcurrentUpgradeProbesOnOneSession(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 10 * time.Second // no heartbeat to answer meanwhile
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	first := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	first.Text("2probe")
	if msg, _ := first.Read(); msg != "3probe" {
		t.Fatalf("probe answer %q", msg)
	}
	second := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	second.ExpectClosed()
	for range 1000 {
		first.Text("2probe")
	}
	for range 1000 {
		if msg, _ := first.Read(); msg != "3probe" {
			t.Fatalf("probe answer %q", msg)
		}
	}
	first.Text("5")
	first.Text("4hello")
	if msg := first.ReadSkippingPings(); msg != "4hello" {
		t.Fatalf("after upgrade: %q", msg)
	}
}

// Packets queued for a polling client that does not poll are bounded by
// MaxQueuedBytes in memory too, however small they are (acks of a flood of
// events posted by a client that never polls).
func TestTinyPacketsQueuedForPollingAreBoundedInMemory(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxQueuedBytes = 1 << 20
	opts.PingInterval = 10 * time.Second
	ts := startEcho(t, opts)
	s := ts.sessions.get(ts.openPolling(t))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak uint64
	var err error
	for i := 0; err == nil && i < 1_000_000; i++ {
		err = s.Send(0, NewTextMessage("31[]"))
		if i%4096 == 0 {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
	}
	if !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send kept queueing: %v", err)
	}
	if grown := int64(peak) - int64(before.HeapAlloc); grown > 4*int64(opts.MaxQueuedBytes) {
		t.Fatalf("queued packets grew the heap by %d KiB (bound %d KiB)", grown>>10, opts.MaxQueuedBytes>>10)
	}
}
