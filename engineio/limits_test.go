package engineio

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"switchboard/internal/testclient"
	"testing"
	"time"
)

func TestOversizedPollingBodyGets413AndClosesTheSession(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxHTTPBufferSize = 100
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	code, _, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4"+strings.Repeat("x", 200))
	if code != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", code)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestOversizedWebSocketMessageClosesTheSession(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxHTTPBufferSize = 100
	ts := startEcho(t, opts)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	c.Text("4" + strings.Repeat("x", 200))
	c.ExpectClosed()
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestBinaryContentTypeIsRefusedUnderEIO4(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	code, body, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4hi", "Content-Type", "application/octet-stream")
	if code != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("%d %s", code, body)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestOverlappingPostsCloseTheSession(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", ts.url("EIO=4&transport=polling&sid="+sid), pr)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	_, _ = pw.Write([]byte("4par")) // the first POST is now in progress
	time.Sleep(50 * time.Millisecond)
	if code, _, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4second"); code != 400 {
		t.Fatalf("second POST: %d", code)
	}
	pw.Close()
	<-first
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestAllowRequestRefusalIs403WithTheMessage(t *testing.T) {
	opts := fixtureOptions()
	opts.AllowRequest = func(r *http.Request) error {
		if r.Header.Get("X-Token") != "ok" {
			return errors.New("no token")
		}
		return nil
	}
	ts := startEcho(t, opts)
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	if code != 403 || body != `{"code":4,"message":"no token"}` {
		t.Fatalf("%d %s", code, body)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "", "X-Token", "ok"); code != 200 {
		t.Fatalf("allowed handshake: %d", code)
	}
}

func TestCORSPreflightAndSimpleRequests(t *testing.T) {
	opts := fixtureOptions()
	opts.CORS = &CORS{Origins: []string{"https://app.example"}, Credentials: true}
	ts := startEcho(t, opts)
	code, _, h := do(t, "OPTIONS", ts.url("EIO=4&transport=polling"), "",
		"Origin", "https://app.example", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type")
	if code != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example" ||
		h.Get("Access-Control-Allow-Credentials") != "true" || h.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", code, h)
	}
	_, _, h = do(t, "GET", ts.url("EIO=4&transport=polling"), "", "Origin", "https://evil.example")
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign origin allowed: %v", h)
	}
	_, _, h = do(t, "GET", ts.url("EIO=4&transport=polling"), "", "Origin", "https://app.example")
	if h.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Fatalf("allowed origin: %v", h)
	}
}

func TestCORSIsOffByDefault(t *testing.T) {
	ts := startEcho(t, nil)
	_, _, h := do(t, "GET", ts.url("EIO=4&transport=polling"), "", "Origin", "https://app.example")
	if h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("CORS header without CORS options: %v", h)
	}
}

func TestUnfinishedUpgradeTimesOutAndPollingContinues(t *testing.T) {
	opts := fixtureOptions()
	opts.UpgradeTimeout = 100 * time.Millisecond
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	c.Read()
	c.ExpectClosed() // no "5" within the upgrade timeout
	do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4still")
	if _, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); body != "4still" {
		t.Fatalf("polling after a failed upgrade: %q", body)
	}
}

func TestPacketsQueuedDuringUpgradeArriveInOrderOnWebSocket(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	s := ts.sessions.get(sid)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	c.Read()
	for _, m := range []string{"a", "b", "c"} {
		_ = s.Send(0, NewTextMessage(m))
	}
	c.Text("5")
	for _, m := range []string{"d", "e"} {
		for s.Transport() != TransportWebSocket {
			time.Sleep(time.Millisecond)
		}
		_ = s.Send(0, NewTextMessage(m))
	}
	for _, want := range []string{"4a", "4b", "4c", "4d", "4e"} {
		if got, _ := c.Read(); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

func TestServerSideCloseDeliversQueuedPacketsToTheNextPoll(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	s := ts.sessions.get(sid)
	_ = s.Send(0, NewTextMessage("bye"))
	s.Close()
	if r := ts.h.waitReason(t); r != ReasonForcedClose {
		t.Fatalf("reason %q", r)
	}
	// The queue first, then the close packet in a poll of its own (as Node:
	// the client would otherwise handle the close before the messages).
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "4bye" {
		t.Fatalf("poll after close: %d %q", code, body)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "1" {
		t.Fatalf("last poll: %d %q", code, body)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after the last: %d", code)
	}
	if err := s.Send(0, NewTextMessage("late")); !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send after close: %v", err)
	}
}

func TestSlowPollingConsumerIsClosed(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxQueuedBytes = 1000
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	s := ts.sessions.get(ts.openPolling(t))
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = s.Send(0, NewTextMessage(strings.Repeat("x", 100)))
	}
	if !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send kept queueing: %v", err)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

// Over WebSocket too, the Send that finds the queue full reports the
// session closed (ErrSessionClosed), like every Send after it.
func TestSlowWebSocketConsumerIsClosed(t *testing.T) {
	opts := fixtureOptions()
	opts.MaxQueuedBytes = 64 << 10
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read() // then never reads again
	s := ts.h.session(t, 0)
	big := strings.Repeat("x", 32<<10)
	var err error
	for i := 0; i < 10000 && err == nil; i++ { // the kernel's buffers fill first
		err = s.Send(0, NewTextMessage(big))
	}
	if !errors.Is(err, ErrSessionClosed) {
		t.Fatalf("Send on a full queue: %v, want ErrSessionClosed", err)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestClientPingIsATransportError(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	c.Text("2")
	c.ExpectClosed()
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
}

func TestServerCloseEndsEverySession(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	sid := ts.openPolling(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	c.ExpectClosed()
	for i := 0; i < 2; i++ {
		if r := ts.h.waitReason(t); r != ReasonServerShutdown {
			t.Fatalf("reason %q", r)
		}
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after shutdown: %d", code)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), ""); code != 503 {
		t.Fatalf("handshake after shutdown: %d", code)
	}
	if ts.Count() != 0 {
		t.Fatalf("%d sessions left", ts.Count())
	}
}

func TestUnknownSIDIsRefused(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid=nope"), "")
	if code != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("%d %s", code, body)
	}
}

func TestPathsOutsideThePrefixAre404(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	for _, path := range []string{"/other/", "/engine.iox", "/engine.iox/", "/engine", "/"} {
		if code, _, _ := do(t, "GET", ts.http.URL+path+"?EIO=4&transport=polling", ""); code != 404 {
			t.Errorf("%s: %d", path, code)
		}
	}
}

// The client's addTrailingSlash: false asks for the path without its
// trailing slash (/engine.io?EIO=4…): the handshake and the session's
// requests are answered there too.
func TestPathWithoutTrailingSlashIsAnswered(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	base := ts.http.URL + "/engine.io?"
	code, body, _ := do(t, "GET", base+"EIO=4&transport=polling", "")
	if code != 200 || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake: %d %s", code, body)
	}
	sid := body[len(`0{"sid":"`) : strings.IndexByte(body[len(`0{"sid":"`):], '"')+len(`0{"sid":"`)]
	if code, body, _ := do(t, "POST", base+"EIO=4&transport=polling&sid="+sid, "4hello"); code != 200 || body != "ok" {
		t.Fatalf("POST: %d %s", code, body)
	}
	if code, body, _ := do(t, "GET", base+"EIO=4&transport=polling&sid="+sid, ""); code != 200 || body != "4hello" {
		t.Fatalf("GET: %d %s", code, body)
	}
}

// A second Close while the first still waits for a WebSocket (here one
// that never answers the close frame, held for the second of linger)
// waits for that shutdown too, until its own ctx ends, rather than
// reporting a finished close at once; after it, Close returns nil at once.
func TestASecondCloseWaitsForTheFirst(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read() // the open packet; then it never reads again
	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		first <- ts.Close(ctx)
	}()
	for !ts.closing.Load() {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := ts.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Close while a WebSocket lingers returned %v, want it to wait (and here time out)", err)
	}
	if err := <-first; err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := ts.Close(context.Background()); err != nil {
		t.Fatalf("Close after the shutdown: %v", err)
	}
}
