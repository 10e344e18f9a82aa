package engineio

// The 24 cases of the official engine.io-protocol test suite, restated from
// the spec, against the same fixture settings (ping 300/200 ms, maxPayload
// 1e6, CORS "*").

import (
	"net/http"
	"strings"
	"switchboard/internal/testclient"
	"sync"
	"testing"
	"time"
)

func TestHandshakeOverPollingReturnsTheOpenPacket(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	code, body, h := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("%d %s", code, h.Get("Content-Type"))
	}
	o := parseOpen(t, body)
	if len(o.SID) != 20 || strings.Trim(o.SID, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Fatalf("sid %q is not 20 URL-safe characters", o.SID)
	}
	if len(o.Upgrades) != 1 || o.Upgrades[0] != "websocket" || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1_000_000 {
		t.Fatalf("open packet %+v", o)
	}
}

func TestHandshakeRejectsAMissingOrInvalidEIO(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	for _, q := range []string{"transport=polling", "EIO=abc&transport=polling", "EIO=3&transport=polling"} {
		code, body, _ := do(t, "GET", ts.url(q), "")
		if code != 400 || body != `{"code":5,"message":"Unsupported protocol version"}` {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}

func TestHandshakeRejectsAMissingOrUnknownTransport(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	for _, q := range []string{"EIO=4", "EIO=4&transport=abc"} {
		code, body, _ := do(t, "GET", ts.url(q), "")
		if code != 400 || body != `{"code":0,"message":"Transport unknown"}` {
			t.Errorf("%s: %d %s", q, code, body)
		}
	}
}

func TestHandshakeRejectsMethodsOtherThanGET(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	for _, m := range []string{"POST", "PUT"} {
		code, body, _ := do(t, m, ts.url("EIO=4&transport=polling"), "")
		if code != 400 || body != `{"code":2,"message":"Bad handshake method"}` {
			t.Errorf("%s: %d %s", m, code, body)
		}
	}
}

func TestHandshakeOverWebSocketReturnsTheOpenPacket(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	msg, _ := c.Read()
	o := parseOpen(t, msg)
	if len(o.Upgrades) != 0 || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1_000_000 {
		t.Fatalf("open packet %+v", o)
	}
}

func TestWebSocketHandshakeWithBadParametersIsRefused(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	for _, q := range []string{"transport=websocket", "EIO=abc&transport=websocket", "EIO=4", "EIO=4&transport=abc"} {
		req, _ := http.NewRequest("GET", ts.url(q), nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "websocket")
		req.Header.Set("Sec-WebSocket-Version", "13")
		req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 400 {
			t.Errorf("%s: status %d", q, res.StatusCode)
		}
	}
}

func TestPollingCarriesOneTextPacketBothWays(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	if code, body, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4hello"); code != 200 || body != "ok" {
		t.Fatalf("post: %d %q", code, body)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "4hello" {
		t.Fatalf("poll: %d %q", code, body)
	}
}

func TestPollingCarriesSeveralTextPacketsInOneResponse(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4test1\x1e4test2\x1e4test3")
	if _, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); body != "4test1\x1e4test2\x1e4test3" {
		t.Fatalf("poll: %q", body)
	}
}

func TestPollingCarriesTextAndBase64BinaryPackets(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4hello\x1ebAQIDBA==")
	if _, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); body != "4hello\x1ebAQIDBA==" {
		t.Fatalf("poll: %q", body)
	}
}

func TestPollingMalformedPacketClosesTheSessionWithParseError(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	if code, body, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "abc"); code != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("post: %d %s", code, body)
	}
	if r := ts.h.waitReason(t); r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 || body != `{"code":1,"message":"Session ID unknown"}` {
		t.Fatalf("poll after close: %d %s", code, body)
	}
}

func TestDuplicatePollClosesTheSession(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	var wg sync.WaitGroup
	var firstCode int
	var firstBody string
	wg.Add(1)
	go func() {
		defer wg.Done()
		firstCode, firstBody, _ = do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
	}()
	time.Sleep(20 * time.Millisecond)
	code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid+"&t=burst"), "")
	wg.Wait()
	if firstCode != 200 || firstBody != "1" {
		t.Fatalf("first poll: %d %q, want the close packet", firstCode, firstBody)
	}
	if code != 400 {
		t.Fatalf("second poll: %d", code)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportError {
		t.Fatalf("reason %q", r)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after close: %d", code)
	}
}

func TestWebSocketCarriesTextAndBinaryMessages(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read() // open
	c.Text("4hello")
	if msg, bin := c.Read(); msg != "4hello" || bin {
		t.Fatalf("got %q binary=%v", msg, bin)
	}
	c.Binary([]byte{1, 2, 3, 4})
	if msg, bin := c.Read(); msg != "\x01\x02\x03\x04" || !bin {
		t.Fatalf("got %q binary=%v", msg, bin)
	}
}

// A client with forceBase64 asks for b64=1 (it may not handle binary
// frames) and sends binary as "b<base64>" text frames; as Node, the server
// then sends binary messages to it as such text frames too, on a WebSocket
// opened directly or by an upgrade. (Compressed frames: see the interop
// test TestForceBase64.)
func TestWebSocketWithB64CarriesBinaryAsBase64Text(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	check := func(c *testclient.Conn) {
		t.Helper()
		c.Text("bAQIDBA==")
		if msg, bin := c.Read(); msg != "bAQIDBA==" || bin {
			t.Fatalf("got %q binary=%v, want the text frame \"bAQIDBA==\"", msg, bin)
		}
		c.Binary([]byte{5, 6})
		if msg, bin := c.Read(); msg != "bBQY=" || bin {
			t.Fatalf("got %q binary=%v, want the text frame \"bBQY=\"", msg, bin)
		}
		c.Text("4text")
		if msg, bin := c.Read(); msg != "4text" || bin {
			t.Fatalf("got %q binary=%v", msg, bin)
		}
	}
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&b64=1"))
	c.Read() // open
	check(c)

	sid := ts.openPolling(t)
	up := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&b64=1&sid="+sid))
	up.Text("2probe")
	up.Text("5")
	up.Read() // 3probe
	waitTransport(t, ts.sessions.get(sid), TransportWebSocket)
	check(up)

	plain := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	plain.Read()
	plain.Text("bBQY=")
	if msg, bin := plain.Read(); msg != "\x05\x06" || !bin {
		t.Fatalf("without b64: got %q binary=%v, want a binary frame", msg, bin)
	}
}

func TestWebSocketMalformedPacketClosesTheConnection(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	c.Text("abc")
	c.ExpectClosed()
	if r := ts.h.waitReason(t); r != ReasonParseError {
		t.Fatalf("reason %q", r)
	}
}

// heartbeatOptions keep the fixture's ping interval but give the test client
// a generous pong window, so a loaded machine cannot fail the test.
func heartbeatOptions() *Options {
	o := fixtureOptions()
	o.PingTimeout = 2 * time.Second
	return o
}

func TestPollingHeartbeatPingsAndAcceptsPongs(t *testing.T) {
	ts := startEcho(t, heartbeatOptions())
	sid := ts.openPolling(t)
	for i := 0; i < 3; i++ {
		if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "2" {
			t.Fatalf("round %d: %d %q", i, code, body)
		}
		if code, _, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "3"); code != 200 {
			t.Fatalf("pong: %d", code)
		}
	}
}

func TestPollingSessionClosesOnPingTimeout(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	if r := ts.h.waitReason(t); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after timeout: %d", code)
	}
}

func TestWebSocketHeartbeatPingsAndAcceptsPongs(t *testing.T) {
	ts := startEcho(t, heartbeatOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	for i := 0; i < 3; i++ {
		if msg, _ := c.Read(); msg != "2" {
			t.Fatalf("round %d: %q", i, msg)
		}
		c.Text("3")
	}
}

func TestWebSocketSessionClosesOnPingTimeout(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	start := time.Now()
	c.ExpectClosed()
	if d := time.Since(start); d < 450*time.Millisecond || d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
	if r := ts.h.waitReason(t); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
}

func TestPollingClosePacketEndsTheSessionAndThePendingPoll(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	done := make(chan string)
	go func() {
		_, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
		done <- body
	}()
	time.Sleep(20 * time.Millisecond)
	do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "1")
	if body := <-done; body != "6" {
		t.Fatalf("pending poll got %q, want noop", body)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after close: %d", code)
	}
}

func TestWebSocketClosePacketClosesAtOnce(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	start := time.Now()
	c.Text("1")
	c.ExpectClosed()
	if d := time.Since(start); d > 250*time.Millisecond {
		t.Fatalf("closed after %v: not at once", d)
	}
	if r := ts.h.waitReason(t); r != ReasonTransportClose {
		t.Fatalf("reason %q", r)
	}
}

func TestUpgradeFromPollingToWebSocket(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	if msg, _ := c.Read(); msg != "3probe" {
		t.Fatalf("probe answer %q", msg)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "6" {
		t.Fatalf("poll during upgrade: %d %q, want noop", code, body)
	}
	c.Text("5")
	c.Text("4hello")
	if msg, _ := c.Read(); msg != "4hello" {
		t.Fatalf("after upgrade: %q", msg)
	}
	if tr := ts.sessions.get(sid).Transport(); tr != TransportWebSocket {
		t.Fatalf("transport %q", tr)
	}
}

func TestPollingIsRefusedAfterUpgrade(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	c.Text("5")
	c.Read() // 3probe
	waitTransport(t, ts.sessions.get(sid), TransportWebSocket)
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 || body != `{"code":3,"message":"Bad request"}` {
		t.Fatalf("poll after upgrade: %d %s", code, body)
	}
	c.Text("4hello")
	if msg, _ := c.Read(); msg != "4hello" {
		t.Fatalf("after upgrade: %q", msg)
	}
}

func TestSecondWebSocketForAnUpgradedSessionIsClosed(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	c.Text("5")
	c.Read()
	c2 := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c2.ExpectClosed()
	c.Text("4hello")
	if msg, _ := c.Read(); msg != "4hello" {
		t.Fatalf("first websocket after the second was refused: %q", msg)
	}
}

func waitTransport(t *testing.T, s *Session, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Transport() != want {
		if time.Now().After(deadline) {
			t.Fatalf("transport %q, want %q", s.Transport(), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestPollRacingTheClientsClosePacketEndsWithNoop(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "1") // the close arrives first
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "6" {
		t.Fatalf("racing poll: %d %q, want noop", code, body)
	}
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after close: %d", code)
	}
}

func TestPollSentDuringTheUpgradeWaitsForItsOutcome(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	c.Read() // 3probe: the upgrade is under way
	result := make(chan int)
	go func() {
		code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
		result <- code
	}()
	time.Sleep(50 * time.Millisecond)
	c.Text("5")
	if code := <-result; code != 400 {
		t.Fatalf("poll during the upgrade: %d, want 400 once upgraded", code)
	}
}

// A client that has read the WebSocket handshake's answer may send the probe,
// the upgrade and a poll before the server has made the new connection the
// session's probe; the poll must still wait for the upgrade's outcome, as in
// Node, which attaches the probe before it reads anything else. The test
// holds the session in that window.
func TestPollSentWhileTheWebSocketHandshakeIsAnsweredWaitsForTheUpgrade(t *testing.T) {
	ts := startEcho(t, fixtureOptions())
	sid := ts.openPolling(t)
	s := ts.sessions.get(sid)
	s.mu.Lock()
	s.probing++ // a handshake being answered
	s.mu.Unlock()
	result := make(chan int)
	go func() {
		code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
		result <- code
	}()
	time.Sleep(30 * time.Millisecond)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	c.Text("5")
	code := <-result
	s.mu.Lock()
	s.probing--
	s.mu.Unlock()
	if code != 400 {
		t.Fatalf("poll sent during the WebSocket handshake: %d, want 400 once upgraded", code)
	}
	c.Text("4hello")
	if msg, _ := c.Read(); msg != "3probe" {
		t.Fatalf("first message on the WebSocket %q, want 3probe", msg)
	}
	if msg, _ := c.Read(); msg != "4hello" {
		t.Fatalf("after upgrade: %q", msg)
	}
}
