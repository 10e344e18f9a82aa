package engineio

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

func TestSessionHeaderIsACompactCopy(t *testing.T) {
	h := http.Header{
		"Cookie":                {"sb_session=abc"},
		"Accept-Language":       {"fr", "en;q=0.8"},
		"X-Empty":               {""},
		"Upgrade":               {"websocket"},
		"Sec-Websocket-Key":     {"dGhlIHNhbXBsZSBub25jZQ=="},
		"Sec-Websocket-Version": {"13"},
	}
	ws := sessionHeader(h, true)
	want := http.Header{"Cookie": {"sb_session=abc"}, "Accept-Language": {"fr", "en;q=0.8"}, "X-Empty": {""}}
	if !reflect.DeepEqual(ws, want) {
		t.Fatalf("websocket: %v, want %v", ws, want)
	}
	if poll := sessionHeader(h, false); !reflect.DeepEqual(poll, h) {
		t.Fatalf("polling: %v, want every header %v", poll, h)
	}
	// The copy is independent of the request's map, and its slices of each other.
	h["Cookie"][0] = "changed"
	ws.Add("Accept-Language", "de")
	if ws.Get("Cookie") != "sb_session=abc" || ws.Values("X-Empty")[0] != "" || len(ws.Values("Accept-Language")) != 3 {
		t.Fatalf("copy not independent: %v", ws)
	}
	if sessionHeader(http.Header{"Upgrade": {"websocket"}}, true) != nil || sessionHeader(nil, false) != nil {
		t.Fatal("nothing to keep should give nil")
	}
}

// wsHandshakeHeaders dials a WebSocket and returns its handshake answer's
// headers.
func wsHandshakeHeaders(t *testing.T, url string) http.Header {
	t.Helper()
	got := http.Header{}
	d := ws.Dialer{OnHeader: func(key, value []byte) error {
		got.Add(string(key), string(value))
		return nil
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, _, _, err := d.Dial(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return got
}

// With Options.Cookie, the answer to a polling handshake sets a cookie
// holding the session id (what sticky-session load balancers route on),
// with Node's defaults or the fields given; later answers and WebSocket
// handshakes do not, as in Node.
func TestCookieOnThePollingHandshake(t *testing.T) {
	for _, c := range []struct {
		name   string
		cookie Cookie
		want   string // with SID for the session id
	}{
		{"defaults", Cookie{}, "io=SID; Path=/; HttpOnly; SameSite=Lax"},
		{"every field", Cookie{Name: "lb", Path: "/app", Domain: "example.com", MaxAge: time.Hour, Secure: true, SameSite: http.SameSiteNoneMode, ScriptReadable: true},
			"lb=SID; Path=/app; Domain=example.com; Max-Age=3600; Secure; SameSite=None"},
	} {
		t.Run(c.name, func(t *testing.T) {
			opts := fixtureOptions()
			opts.Cookie = &c.cookie
			ts := startEcho(t, opts)
			resp, body := rawGet(t, ts.url("EIO=4&transport=polling"), "")
			sid := parseOpen(t, string(body)).SID
			if got, want := resp.Header.Values("Set-Cookie"), strings.ReplaceAll(c.want, "SID", sid); len(got) != 1 || got[0] != want {
				t.Fatalf("Set-Cookie %q, want %q", got, want)
			}
			if resp, _ := rawGet(t, ts.url("EIO=4&transport=polling&sid="+sid), ""); resp.Header.Get("Set-Cookie") != "" {
				t.Errorf("a poll set a cookie: %q", resp.Header.Get("Set-Cookie"))
			}
			if h := wsHandshakeHeaders(t, ts.wsURL("EIO=4&transport=websocket")); h.Get("Set-Cookie") != "" {
				t.Errorf("a WebSocket handshake set a cookie: %q", h.Get("Set-Cookie"))
			}
		})
	}
}

func TestAnInvalidCookieIsRefusedAtNewServer(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "Options.Cookie") {
			t.Fatalf("panic %v, want one naming Options.Cookie", r)
		}
	}()
	NewServer(newEcho(), &Options{Cookie: &Cookie{Name: "two words"}})
}

// Options.OnHeaders adds headers to every answer that is not an error —
// the handshakes (initial), polls, POSTs, the upgrade's WebSocket
// handshake — and the server's own headers stay the server's.
func TestOnHeadersAddsToEveryAnswer(t *testing.T) {
	type call struct {
		method, transport string
		sid, initial      bool
	}
	var mu sync.Mutex
	var calls []call
	opts := fixtureOptions()
	opts.PingInterval = 10 * time.Second
	opts.Cookie = &Cookie{}
	opts.OnHeaders = func(h http.Header, r *http.Request, initial bool) {
		mu.Lock()
		calls = append(calls, call{r.Method, r.URL.Query().Get("transport"), r.URL.Query().Has("sid"), initial})
		mu.Unlock()
		if initial && r.URL.Query().Get("transport") == "polling" && !strings.HasPrefix(h.Get("Set-Cookie"), "io=") {
			h.Set("X-Cookie-Seen", "no")
		}
		h.Set("X-Served-By", "node-a")
		h.Set("Content-Type", "application/json") // the server's own: overridden
	}
	ts := startEcho(t, opts)
	check := func(name string, h http.Header) {
		t.Helper()
		if h.Get("X-Served-By") != "node-a" || h.Get("X-Cookie-Seen") != "" {
			t.Errorf("%s: X-Served-By %q, X-Cookie-Seen %q", name, h.Get("X-Served-By"), h.Get("X-Cookie-Seen"))
		}
	}
	resp, body := rawGet(t, ts.url("EIO=4&transport=polling"), "")
	check("polling handshake", resp.Header)
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("handshake Content-Type %q", ct)
	}
	sid := parseOpen(t, string(body)).SID
	poll := ts.url("EIO=4&transport=polling&sid=" + sid)
	code, _, h := do(t, "POST", poll, "4hello")
	if code != 200 {
		t.Fatalf("POST: %d", code)
	}
	check("POST", h)
	resp, body = rawGet(t, poll, "")
	check("poll", resp.Header)
	if string(body) != "4hello" {
		t.Fatalf("poll answer %q", body)
	}
	check("upgrade", wsHandshakeHeaders(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid)))
	check("WebSocket handshake", wsHandshakeHeaders(t, ts.wsURL("EIO=4&transport=websocket")))
	if code, _, h := do(t, "GET", ts.url("EIO=4&transport=polling&sid=unknown"), ""); code != 400 || h.Get("X-Served-By") != "" {
		t.Errorf("an error answer (%d) got the hook's header %q", code, h.Get("X-Served-By"))
	}
	mu.Lock()
	defer mu.Unlock()
	want := []call{
		{"GET", "polling", false, true},
		{"POST", "polling", true, false},
		{"GET", "polling", true, false},
		{"GET", "websocket", true, false},
		{"GET", "websocket", false, true},
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("calls %+v\nwant %+v", calls, want)
	}
}
