package interop

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engineio"
	"switchboard/socketio"
)

//go:embed testdata/page.html
var pageHTML []byte

// A page served by the Go server loads the client bundle from the server
// (/socket.io/socket.io.js) in Chromium and exchanges events both ways: a
// form submission reaches the Go handler (with an ArrayBuffer) and its ack
// is shown; Go's emits, binary ones too, are shown; Go's EmitWithAck is
// answered by the page. The connection upgrades to WebSocket.
func TestChromiumPage(t *testing.T) {
	t.Parallel()
	requireBundle(t)
	requireChromium(t)
	io := socketio.NewServer(options())
	reg := newSockets()
	io.OnConnection(func(s *socketio.Socket) {
		reg.track(s)
		s.OnAny(reg.record)
	})
	io.On("chat", func(s *socketio.Socket, e *socketio.Event) {
		text, _ := e.Args.String(0)
		_ = e.Ack("got " + text)
	})
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(pageHTML)
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := serve(t, "127.0.0.1:0", io, mux)

	b := startNode(t, "browser.mjs", srv.URL+"/")
	b.timeout = 30 * time.Second // Chromium starts slowly on a busy machine
	b.grace = 10 * time.Second
	loaded := b.want(t, "loaded", "page")
	if loaded.N != http.StatusOK {
		t.Fatalf("GET /socket.io/socket.io.js answered %d, want 200", loaded.N)
	}
	s := reg.get(t, "page")
	b.send(t, map[string]any{"op": "waitFor", "expr": `document.getElementById("status").textContent === "connected ` + s.ID() + `"`})
	b.want(t, "waited", "page")
	if ua := s.Handshake().Headers.Get("User-Agent"); !strings.Contains(ua, "Chrome") {
		t.Errorf("User-Agent %q: not Chromium?", ua)
	}

	// page → Go, with the ack shown on the page
	b.send(t, map[string]any{"op": "type", "text": "hello from Chromium ✓ 😀"})
	got := reg.event(t, "page", "chat")
	if text, err := got.Event.Args.String(0); err != nil || text != "hello from Chromium ✓ 😀" {
		t.Errorf("Go got %q, %v", text, err)
	}
	if data, err := got.Event.Args.Bytes(1); err != nil || !bytes.Equal(data, []byte{0xde, 0xad, 0xbe, 0xef}) {
		t.Errorf("Go got the ArrayBuffer as %x, %v", data, err)
	}
	b.send(t, map[string]any{"op": "waitText", "text": "ack: got hello from Chromium ✓ 😀"})
	b.want(t, "shown", "page")

	// Go → page
	if err := s.Emit("chat", map[string]string{"from": "go", "text": "hello page ✓"}); err != nil {
		t.Fatal(err)
	}
	b.send(t, map[string]any{"op": "waitText", "text": "go: hello page ✓"})
	b.want(t, "shown", "page")
	if err := io.Emit("binary", []byte{7, 0, 255, 1, 9}, "broadcast"); err != nil {
		t.Fatal(err)
	}
	b.send(t, map[string]any{"op": "waitText", "text": "broadcast: ArrayBuffer of 5 bytes, 7,0,255,1"})
	b.want(t, "shown", "page")

	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	answer, err := s.EmitWithAck(ctx, "question", "2+2?")
	if err != nil {
		t.Fatal(err)
	}
	if str, _ := answer.String(0); str != "page answers 2+2?" {
		t.Errorf("the page answered %q", str)
	}
	if data, err := answer.Bytes(1); err != nil || !bytes.Equal(data, []byte{1, 2, 3}) {
		t.Errorf("the page's binary answer: %x, %v", data, err)
	}

	// the browser upgrades to WebSocket, and events still flow
	b.send(t, map[string]any{"op": "waitFor", "expr": `socket.io.engine.transport.name === "websocket"`})
	b.want(t, "waited", "page")
	b.send(t, map[string]any{"op": "type", "text": "after the upgrade"})
	if got := reg.event(t, "page", "chat"); got.Transport != "websocket" {
		t.Errorf("server got the event on %s", got.Transport)
	}
	b.send(t, map[string]any{"op": "waitText", "text": "ack: got after the upgrade"})
	b.want(t, "shown", "page")
	if err := s.Emit("chat", map[string]string{"from": "go", "text": "over WebSocket"}); err != nil {
		t.Fatal(err)
	}
	b.send(t, map[string]any{"op": "waitText", "text": "go: over WebSocket"})
	b.want(t, "shown", "page")
	reg.gone.none(t, 0, "disconnection")

	// cross-origin: the page connects to two other servers over polling
	// (XMLHttpRequest, so CORS applies), with credentials; the ack, over
	// 1 KiB, comes back gzip-compressed (Chromium accepts it) and intact
	long := strings.Repeat("·", 1500)
	for _, c := range []struct {
		name    string
		cors    *engineio.CORS
		allowed bool
	}{
		{"cross", &engineio.CORS{Origins: []string{"*"}, Credentials: true}, true},
		{"refused", &engineio.CORS{Origins: []string{"http://example.com"}, Credentials: true}, false},
	} {
		opts := options()
		opts.Engine.CORS = c.cors
		other := socketio.NewServer(opts)
		otherReg := newSockets()
		other.OnConnection(otherReg.track)
		other.On("ping", func(s *socketio.Socket, e *socketio.Event) {
			text, _ := e.Args.String(0)
			_ = e.Ack(map[string]string{"text": "pong " + text, "origin": s.Handshake().Headers.Get("Origin")})
		})
		var encMu sync.Mutex
		encodings := map[string]int{} // Content-Encoding of the polling answers
		otherSrv := serve(t, "127.0.0.1:0", other, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			other.ServeHTTP(w, r)
			encMu.Lock()
			encodings[w.Header().Get("Content-Encoding")]++
			encMu.Unlock()
		}))
		b.send(t, map[string]any{"op": "eval", "expr": `(async () => {
			const other = io(` + strconv.Quote(otherSrv.URL) + `, {
				transports: ["polling"], withCredentials: true, reconnection: false,
				auth: { name: ` + strconv.Quote(c.name) + ` },
			});
			try {
				await new Promise((resolve, reject) => {
					other.once("connect", resolve);
					other.once("connect_error", reject);
				});
			} catch (err) {
				return "connect_error: " + err.message;
			}
			return await other.timeout(5000).emitWithAck("ping", "cross-origin ✓" + ` + strconv.Quote(long) + `);
		})()`})
		result := b.want(t, "eval", "page").Text
		if !c.allowed {
			if result != `"connect_error: xhr poll error"` {
				t.Errorf("refused origin: the page got %s, want a connect_error", result)
			}
			otherReg.connections.none(t, 0, "connection from a refused origin")
			continue
		}
		var ack struct{ Text, Origin string }
		if err := json.Unmarshal([]byte(result), &ack); err != nil || ack.Text != "pong cross-origin ✓"+long || ack.Origin != srv.URL {
			t.Errorf("cross-origin ack %.80s… (%v), want the pong and origin %s", result, err, srv.URL)
		}
		encMu.Lock()
		if encodings["gzip"] == 0 {
			t.Errorf("no polling answer was gzip-compressed (Content-Encoding of the answers: %v)", encodings)
		}
		encMu.Unlock()
		if s := otherReg.get(t, c.name); !s.Handshake().XDomain || s.Transport() != "polling" {
			t.Errorf("cross-origin socket: XDomain %v, transport %s", s.Handshake().XDomain, s.Transport())
		}
	}
}

// A tab that goes away is seen leaving at once (not at the ping timeout):
// sockets with closeOnBeforeunload (WebSocket and polling) and the page's
// default socket (upgraded to WebSocket) all disconnect on the server when
// Chromium navigates away.
func TestChromiumCloseOnBeforeunload(t *testing.T) {
	t.Parallel()
	requireBundle(t)
	requireChromium(t)
	io := socketio.NewServer(options()) // Node's heartbeat: 25 s + 20 s, longer than any wait here
	reg := newSockets()
	io.OnConnection(reg.track)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", io)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(pageHTML)
	})
	mux.HandleFunc("GET /elsewhere", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte("<!doctype html><title>elsewhere</title><p>elsewhere</p>"))
	})
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	srv := serve(t, "127.0.0.1:0", io, mux)

	b := startNode(t, "browser.mjs", srv.URL+"/")
	b.timeout = 30 * time.Second
	b.grace = 10 * time.Second
	b.want(t, "loaded", "page")
	b.send(t, map[string]any{"op": "eval", "expr": `(async () => {
		const open = (name, transports) => new Promise((resolve, reject) => {
			const s = io({ auth: { name }, transports, closeOnBeforeunload: true, forceNew: true, reconnection: false });
			s.once("connect", () => resolve(s.id));
			s.once("connect_error", reject);
		});
		const ids = [await open("bye-ws", ["websocket"]), await open("bye-poll", ["polling"])];
		if (socket.io.engine.transport.name !== "websocket") {
			await new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
		}
		return ids;
	})()`})
	b.want(t, "eval", "page")
	for _, name := range []string{"page", "bye-ws", "bye-poll"} {
		reg.get(t, name)
	}
	// the client has sent its upgrade packet; the server takes it a moment later
	for deadline := time.Now().Add(waitTimeout); reg.get(t, "page").Transport() != "websocket"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the server never saw the page's socket upgrade")
		}
	}
	b.send(t, map[string]any{"op": "eval", "expr": `setTimeout(() => { location.href = "/elsewhere"; }, 0), true`})
	b.want(t, "eval", "page")

	left := map[string]socketio.DisconnectReason{}
	for range 3 {
		g := reg.gone.next(t, "a tab's socket leaving")
		left[g.Socket] = g.Reason
	}
	if left["page"] != socketio.ReasonTransportClose || left["bye-ws"] != socketio.ReasonTransportClose {
		t.Errorf("WebSocket sockets left with %v, want %q", left, socketio.ReasonTransportClose)
	}
	// the close packet, or the poll request aborted with the page (as Node)
	if r := left["bye-poll"]; r != socketio.ReasonTransportClose && r != socketio.ReasonTransportError {
		t.Errorf("the polling socket left with %q", r)
	}
}
