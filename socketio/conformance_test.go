package socketio

// The 32 cases of the official socket.io-protocol test suite, restated from
// the specs against the suite's fixture contract. Unlike the official suite,
// the test client never drops a frame that arrives together with another.

import (
	"strings"
	"testing"
	"time"

	"switchboard/internal/testclient"
)

// Engine.IO behaviour under /socket.io/ (the suite's first 16 cases).

func TestEngineIOHandshakeUnderTheSocketIOPath(t *testing.T) {
	ts := startSuite(t, nil)
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	if code != 200 || !strings.HasPrefix(body, `0{"sid":"`) ||
		!strings.HasSuffix(body, `","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}`) {
		t.Fatalf("polling handshake: %d %s", code, body)
	}
	c := ts.ws(t)
	if open := c.ReadText(); !strings.Contains(open, `"upgrades":[]`) {
		t.Fatalf("websocket handshake: %s", open)
	}
}

func TestEngineIOBadRequestsUnderTheSocketIOPath(t *testing.T) {
	ts := startSuite(t, nil)
	for _, tc := range []struct {
		method, query string
		code          int
	}{
		{"GET", "transport=polling", 400},
		{"GET", "EIO=abc&transport=polling", 400},
		{"GET", "EIO=4", 400},
		{"GET", "EIO=4&transport=abc", 400},
		{"POST", "EIO=4&transport=polling", 400},
		{"PUT", "EIO=4&transport=polling", 400},
		{"GET", "EIO=4&transport=websocket", 400}, // websocket without an upgrade
	} {
		if code, body, _ := do(t, tc.method, ts.url(tc.query), ""); code != tc.code || !strings.HasPrefix(body, `{"code":`) {
			t.Errorf("%s %s: %d %s", tc.method, tc.query, code, body)
		}
	}
}

func TestEngineIOHeartbeatAndCloseUnderTheSocketIOPath(t *testing.T) {
	opts := suiteOptions()
	opts.Engine.PingTimeout = 2 * time.Second // a generous pong window: timing is not the point
	ts := startSuite(t, opts)
	c := ts.ws(t)
	c.ReadText()
	for i := 0; i < 3; i++ {
		if msg := c.ReadText(); msg != "2" {
			t.Fatalf("ping %d: %q", i, msg)
		}
		c.Text("3")
	}
	c.Text("1")
	c.ExpectClosed()
}

func TestEngineIOPingTimeoutUnderTheSocketIOPath(t *testing.T) {
	ts := startSuite(t, nil)
	c := ts.ws(t)
	c.ExpectClosed()
	_, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	sid := body[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
	time.Sleep(600 * time.Millisecond)
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after timeout: %d", code)
	}
}

func TestEngineIOUpgradeUnderTheSocketIOPath(t *testing.T) {
	ts := startSuite(t, nil)
	_, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	sid := body[len(`0{"sid":"`) : len(`0{"sid":"`)+20]
	c := testclient.Dial(t, testclient.WSURL(ts.http.URL)+"/socket.io/?EIO=4&transport=websocket&sid="+sid)
	c.Text("2probe")
	if msg := c.ReadText(); msg != "3probe" {
		t.Fatalf("probe: %q", msg)
	}
	c.Text("5")
	time.Sleep(20 * time.Millisecond)
	if code, _, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after upgrade: %d", code)
	}
	c2 := testclient.Dial(t, testclient.WSURL(ts.http.URL)+"/socket.io/?EIO=4&transport=websocket&sid="+sid)
	c2.ExpectClosed()
}

// Socket.IO behaviour (the suite's last 16 cases).

func TestConnectToTheMainNamespace(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	if msg := c.ReadSkippingPings(); msg != `42["auth",{}]` {
		t.Fatalf("auth packet %q", msg)
	}
}

func TestConnectToTheMainNamespaceWithAPayload(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", `{"token":"123"}`)
	if msg := c.ReadSkippingPings(); msg != `42["auth",{"token":"123"}]` {
		t.Fatalf("auth packet %q", msg)
	}
}

func TestConnectToACustomNamespace(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/custom", "")
	if msg := c.ReadSkippingPings(); msg != `42/custom,["auth",{}]` {
		t.Fatalf("auth packet %q", msg)
	}
}

func TestConnectToACustomNamespaceWithAPayload(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/custom", `{"token":"abc"}`)
	if msg := c.ReadSkippingPings(); msg != `42/custom,["auth",{"token":"abc"}]` {
		t.Fatalf("auth packet %q", msg)
	}
}

func TestConnectToAnUnknownNamespaceIsRefused(t *testing.T) {
	ts := startSuite(t, nil)
	c := ts.ws(t)
	c.ReadText()
	c.Text("40/random")
	if msg := c.ReadSkippingPings(); msg != `44/random,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", msg)
	}
}

func TestInvalidHandshakeClosesTheConnection(t *testing.T) {
	ts := startSuite(t, nil)
	c := ts.ws(t)
	c.ReadText()
	c.Text("4abc")
	c.ExpectClosed()
}

func TestNoHandshakeWithinTheConnectTimeoutClosesTheConnection(t *testing.T) {
	opts := suiteOptions()
	opts.Engine.PingTimeout = 5 * time.Second // so that only the connect timeout can close it
	opts.ConnectTimeout = 300 * time.Millisecond
	ts := startSuite(t, opts)
	c := ts.ws(t)
	c.ReadText()
	start := time.Now()
	c.ExpectClosed()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %v", d)
	}
}

func TestDisconnectFromTheMainNamespace(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	c.ReadSkippingPings() // auth
	c.Text("41")
	c.Text(`42["message","after"]`) // the namespace is gone: this is an invalid state
	c.ExpectClosed()
}

func TestConnectThenDisconnectFromACustomNamespace(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	c.ReadSkippingPings() // auth
	c.Text("40/custom")
	if msg := c.ReadSkippingPings(); !strings.HasPrefix(msg, "40/custom,{") {
		t.Fatalf("custom CONNECT reply %q", msg)
	}
	c.ReadSkippingPings() // auth on /custom
	c.Text("41/custom")
	c.Text(`42["message","message to main namespace"]`)
	if msg := c.ReadSkippingPings(); msg != `42["message-back","message to main namespace"]` {
		t.Fatalf("got %q", msg)
	}
}

func TestPlainTextEventRoundTrip(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	c.ReadSkippingPings()
	c.Text(`42["message",1,"2",{"3":[true]}]`)
	if msg := c.ReadSkippingPings(); msg != `42["message-back",1,"2",{"3":[true]}]` {
		t.Fatalf("got %q", msg)
	}
}

func TestBinaryEventRoundTrip(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	c.ReadSkippingPings()
	c.Text(`452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.Binary([]byte{1, 2, 3})
	c.Binary([]byte{4, 5, 6})
	if msg := c.ReadSkippingPings(); msg != `452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` {
		t.Fatalf("got %q", msg)
	}
	for _, want := range []string{"\x01\x02\x03", "\x04\x05\x06"} {
		if msg, bin := c.Read(); msg != want || !bin {
			t.Fatalf("attachment %q binary=%v", msg, bin)
		}
	}
}

func TestPlainTextEventWithAck(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	c.ReadSkippingPings()
	c.Text(`42456["message-with-ack",1,"2",{"3":[false]}]`)
	if msg := c.ReadSkippingPings(); msg != `43456[1,"2",{"3":[false]}]` {
		t.Fatalf("got %q", msg)
	}
}

func TestBinaryEventWithAck(t *testing.T) {
	ts := startSuite(t, nil)
	c, _ := ts.connect(t, "/", "")
	c.ReadSkippingPings()
	c.Text(`452-789["message-with-ack",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`)
	c.Binary([]byte{1, 2, 3})
	c.Binary([]byte{4, 5, 6})
	if msg := c.ReadSkippingPings(); msg != `462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]` {
		t.Fatalf("got %q", msg)
	}
	for _, want := range []string{"\x01\x02\x03", "\x04\x05\x06"} {
		if msg, bin := c.Read(); msg != want || !bin {
			t.Fatalf("attachment %q binary=%v", msg, bin)
		}
	}
}

func TestMalformedPacketsCloseTheConnection(t *testing.T) {
	for _, bad := range []string{
		"4abc", // unknown packet type
		"42{}", // payload is not an array
		`42abc["message-with-ack",1,"2",{"3":[false]}]`, // invalid ack id
		`42["connect"]`, // reserved event name
		`42[]`,          // empty event
		`453-["a",{"_placeholder":true,"num":0}]`, // wrong attachment count then text
		`4511-["a"]`,       // too many attachments
		`42["unterminated`, // invalid JSON
	} {
		t.Run(bad, func(t *testing.T) {
			ts := startSuite(t, nil)
			c, _ := ts.connect(t, "/", "")
			c.ReadSkippingPings()
			c.Text(bad)
			if bad == `453-["a",{"_placeholder":true,"num":0}]` {
				c.Text(`42["message"]`)
			}
			c.ExpectClosed()
		})
	}
}
