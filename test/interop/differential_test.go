package interop

import (
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"switchboard/internal/conformance"
	"switchboard/internal/testclient"
	"switchboard/socketio"
)

// The differential tests put Switchboard side by side with Node's own
// servers (engine.io 6.6 and socket.io 4.8, js/reference.mjs) on the
// official suites' fixture contracts (internal/conformance), send both the
// same requests and frames, well-formed and not, and compare what comes
// back: status codes, content types, packets (session and socket ids
// replaced, JSON compared by value) and when the connection is closed.
// Where Switchboard answers differently on purpose, the case says so and
// checks our answer instead (see diverge).

// diffPingInterval and diffPingTimeout are both servers' heartbeat here:
// long enough that pings seldom land in the middle of a case's exchange
// (they are answered and left out of the transcripts anyway).
const (
	diffPingInterval = 1500 * time.Millisecond
	diffPingTimeout  = 1500 * time.Millisecond
)

// target is one server under comparison.
type target struct {
	name string
	base string // http://127.0.0.1:port
}

func diffTargets(t *testing.T) (node, ours target) {
	t.Helper()
	ref := startNode(t, "reference.mjs", fmt.Sprint(diffPingInterval.Milliseconds()), fmt.Sprint(diffPingTimeout.Milliseconds()))
	ref.mu.Lock()
	port := ref.reports[0].N // the "ready" report startNode waited for
	ref.mu.Unlock()
	node = target{name: "node", base: fmt.Sprintf("http://127.0.0.1:%d", port)}

	opts := &conformance.Options{PingInterval: diffPingInterval, PingTimeout: diffPingTimeout}
	eio := conformance.EngineIO(opts)
	sio := conformance.SocketIO(opts)
	opsNamespace(sio)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", eio)
	mux.Handle("/socket.io/", sio)
	srv := serve(t, "127.0.0.1:0", sio, mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = eio.Close(ctx)
	})
	return node, target{name: "switchboard", base: srv.URL}
}

// A peer runs one case against one target and keeps its transcript.
type peer struct {
	t   *testing.T
	tg  target
	out []string
	sid string // the Engine.IO session id of the last handshake

	// silent leaves the server's pings unanswered (and logs them).
	silent bool

	// headers, when set, picks the headers of HTTP answers to log.
	headers func(http.Header) string

	// WebSockets by name; cur is the one dial, text, expect… act on.
	conns map[string]*wsConn
	cur   string
}

// A wsConn is one of a peer's WebSockets.
type wsConn struct {
	conn net.Conn
	r    io.Reader
	done bool   // closed
	ack  string // the ack id of the last event that asked for one
}

// as makes name the current WebSocket: the next dial opens it, and text,
// expect… act on it. Its log lines are marked with its name.
func (p *peer) as(name string) { p.cur = name }

// ws returns the current WebSocket; one that was never opened (its dial
// failed) reads as closed, and writes to it are logged as failing.
func (p *peer) ws() *wsConn {
	c := p.conns[p.cur]
	if c == nil {
		return &wsConn{done: true}
	}
	return c
}

func (p *peer) log(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if p.cur != "" && (strings.HasPrefix(line, "←") || strings.HasPrefix(line, "WS") || strings.HasPrefix(line, "write")) {
		line = "[" + p.cur + "] " + line
	}
	p.out = append(p.out, line)
}

// url expands {sid} in pathQuery.
func (p *peer) url(pathQuery string) string {
	return p.tg.base + strings.ReplaceAll(pathQuery, "{sid}", p.sid)
}

var diffClient = &http.Client{Timeout: 10 * time.Second}

// request performs an HTTP request; header holds name/value pairs. It logs
// the status, the content type and the body (its packets normalized).
func (p *peer) request(method, pathQuery, body string, header ...string) (int, string) {
	req, err := http.NewRequest(method, p.url(pathQuery), strings.NewReader(body))
	if err != nil {
		p.log("%s %s: %v", method, pathQuery, err)
		return 0, ""
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := diffClient.Do(req)
	if err != nil {
		p.log("%s %s: %v", method, pathQuery, errors.Unwrap(err))
		return 0, ""
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if b, err = inflate(res.Header.Get("Content-Encoding"), b); err != nil {
		p.log("%s %s: %v", method, pathQuery, err)
		return 0, ""
	}
	ct := strings.ToLower(strings.ReplaceAll(res.Header.Get("Content-Type"), " ", ""))
	p.log("%s %s → %d [%s] %s", method, pathQuery, res.StatusCode, ct, normalizePayload(string(b), strings.Contains(pathQuery, "/socket.io/")))
	if p.headers != nil {
		p.log("  headers: %s", p.headers(res.Header))
	}
	return res.StatusCode, string(b)
}

// inflate undoes an answer's Content-Encoding (the bytes of two
// compressors differ; what they compress must not).
func inflate(encoding string, b []byte) ([]byte, error) {
	var r io.Reader
	var err error
	switch encoding {
	case "":
		return b, nil
	case "gzip":
		r, err = gzip.NewReader(bytes.NewReader(b))
	case "deflate":
		r, err = zlib.NewReader(bytes.NewReader(b)) // HTTP's deflate is the zlib format (RFC 9110)
	default:
		return nil, fmt.Errorf("unexpected Content-Encoding %q", encoding)
	}
	if err == nil {
		b, err = io.ReadAll(r)
	}
	if err != nil {
		return nil, fmt.Errorf("%s body: %w", encoding, err)
	}
	return b, nil
}

// encodingHeader logs the Content-Encoding of an answer (for peer.headers).
func encodingHeader(h http.Header) string { return "Content-Encoding: " + h.Get("Content-Encoding") }

// corsHeaders lists the CORS headers of an answer (for peer.headers). Vary
// is not among them: ours says "Vary: Accept-Encoding" on polling answers,
// which may be compressed; Node's do not.
func corsHeaders(h http.Header) string {
	var out []string
	for _, name := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials",
		"Access-Control-Allow-Methods", "Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age"} {
		if v := h.Values(name); len(v) > 0 {
			out = append(out, name+": "+strings.ToLower(strings.ReplaceAll(strings.Join(v, ","), " ", "")))
		}
	}
	return strings.Join(out, "; ")
}

// handshake opens a polling session at path and keeps its id; header holds
// name/value pairs.
func (p *peer) handshake(path string, header ...string) {
	status, body := p.request("GET", path+"?EIO=4&transport=polling", "", header...)
	var open struct {
		SID string `json:"sid"`
	}
	if status != http.StatusOK || !strings.HasPrefix(body, "0{") || json.Unmarshal([]byte(body[1:]), &open) != nil {
		p.log("(no session: the rest of the case goes without)")
		return
	}
	p.sid = open.SID
}

// poll GETs the session's next payload, answering and leaving out pings.
func (p *peer) poll(path string) {
	for range 5 {
		res, err := diffClient.Get(p.url(path + "?EIO=4&transport=polling&sid={sid}"))
		if err != nil {
			p.log("GET poll: %v", errors.Unwrap(err))
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		payload := normalizePayload(string(b), strings.Contains(path, "socket.io"))
		if res.StatusCode == http.StatusOK && payload == "" { // only pings
			p.request("POST", path+"?EIO=4&transport=polling&sid={sid}", "3")
			p.out = p.out[:len(p.out)-1]
			continue
		}
		p.log("GET poll → %d %s", res.StatusCode, payload)
		return
	}
	p.log("GET poll: only pings")
}

// dial opens a WebSocket (pathQuery relative to the target); a refused
// handshake is logged with its status.
func (p *peer) dial(pathQuery string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, br, _, err := ws.Dialer{}.Dial(ctx, testclient.WSURL(p.url(pathQuery)))
	if err != nil {
		var se ws.StatusError
		if errors.As(err, &se) {
			p.log("WS %s refused: %d", pathQuery, int(se))
		} else {
			p.log("WS %s refused: %v", pathQuery, err)
		}
		return false
	}
	p.t.Cleanup(func() { conn.Close() })
	c := &wsConn{conn: conn, r: conn}
	if br != nil {
		c.r = io.MultiReader(br, conn)
	}
	if p.conns == nil {
		p.conns = make(map[string]*wsConn)
	}
	p.conns[p.cur] = c
	p.log("WS %s open", pathQuery)
	return true
}

// text and binary send a message on the WebSocket.
func (p *peer) text(s string) { p.frame(ws.NewTextFrame([]byte(s))) }

func (p *peer) binary(b []byte) { p.frame(ws.NewBinaryFrame(b)) }

func (p *peer) frame(f ws.Frame) {
	f.Payload = bytes.Clone(f.Payload) // masked in place: the case's bytes are sent again to the other server
	p.write(ws.MaskFrameInPlace(f))
}

// write sends f as it is (a client must mask its frames: frame does).
func (p *peer) write(f ws.Frame) {
	c := p.ws()
	if c.conn == nil {
		p.log("write: no WebSocket")
		return
	}
	_ = c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if err := ws.WriteFrame(c.conn, f); err != nil {
		p.log("write: %v", err)
	}
}

// expect reads n messages (pings answered and left out) and logs them; a
// close or a wait of over 5 s is logged instead.
func (p *peer) expect(n int) {
	for range n {
		if !p.read(5 * time.Second) {
			return
		}
	}
}

// quiet logs whatever arrives within d (normally nothing).
func (p *peer) quiet(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if !p.read(time.Until(deadline)) {
			return
		}
	}
}

// closed waits for the server to close the connection, logging the close
// frame's code (or "no close frame") and any messages before it.
func (p *peer) closed() {
	deadline := time.Now().Add(2500 * time.Millisecond) // over the fixtures' 1 s connect timeout
	for time.Now().Before(deadline) {
		if !p.read(time.Until(deadline)) {
			return
		}
	}
	p.log("← (still open)")
}

// read reads one message within d and logs it; false when none came, or
// the connection ended (logged).
func (p *peer) read(d time.Duration) bool {
	c := p.ws()
	if c.done {
		return false
	}
	_ = c.conn.SetReadDeadline(time.Now().Add(d)) // pings do not extend it
	for {
		f, err := testclient.ReadFrame(c.r)
		if err != nil {
			var ne net.Error
			switch {
			case errors.As(err, &ne) && ne.Timeout():
				if d >= 2*time.Second {
					p.log("← (nothing)")
				}
			case errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset"):
				c.done = true
				p.log("← connection closed without a close frame")
			default:
				p.log("← read error: %v", err)
			}
			return false
		}
		switch f.Header.OpCode {
		case ws.OpClose:
			c.done = true
			// Node's ws closes without a status code (1005), ours with 1000:
			// both are a normal closure to a client.
			switch code, _ := ws.ParseCloseFrameData(f.Payload); code {
			case 0, ws.StatusNormalClosure, ws.StatusNoStatusRcvd:
				p.log("← close (normal)")
			default:
				p.log("← close %d", code)
			}
			return false
		case ws.OpPing:
			p.frame(ws.NewPongFrame(f.Payload))
			continue
		case ws.OpPong:
			p.log("← pong %q", f.Payload)
			return true
		case ws.OpBinary:
			p.log("← binary %s", hex.EncodeToString(f.Payload))
			return true
		}
		s := string(f.Payload)
		if s == "2" && !p.silent {
			p.text("3")
			continue
		}
		if m := askingEvent.FindStringSubmatchIndex(s); m != nil { // the id is the server's to choose
			c.ack = s[m[2]:m[3]]
			s = s[:m[2]] + "<ack>" + s[m[3]:]
		}
		p.log("← %s", normalizePacket(s, true))
		return true
	}
}

// askingEvent matches a Socket.IO EVENT or BINARY_EVENT asking for an
// acknowledgement; the first group is its ack id.
var askingEvent = regexp.MustCompile(`^4[25](?:\d+-)?(?:/[^,]*,)?(\d+)[\[{"]`)

// answer acknowledges the last event that asked for it on the current
// WebSocket, in namespace prefix nsp ("" or "/name,"), with args (JSON).
func (p *peer) answer(nsp, args string) { p.text("43" + nsp + p.ws().ack + args) }

// sessionID matches the ids servers make up (Engine.IO session and
// Socket.IO socket ids: 20 URL-safe characters in both).
var sessionID = regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`)

// normalizePayload normalizes each packet of a polling payload and leaves
// out pings; siox says the packets carry Socket.IO packets.
func normalizePayload(body string, siox bool) string {
	if strings.HasPrefix(body, "{") { // an error answer
		return canonicalJSON(body)
	}
	var out []string
	pkts := strings.Split(body, "\x1e")
	for _, pkt := range pkts {
		// Pings are left out; so is a noop with other packets (Node ends a
		// poll with "6␞1" where we send "1": the same to a client).
		if pkt == "2" || pkt == "6" && len(pkts) > 1 {
			continue
		}
		out = append(out, normalizePacket(pkt, siox))
	}
	return strings.Join(out, " ␞ ")
}

// normalizePacket replaces made-up ids in an Engine.IO packet and compares
// its JSON by value: the open packet's, and a Socket.IO packet's data.
func normalizePacket(pkt string, siox bool) string {
	switch {
	case strings.HasPrefix(pkt, "0{"):
		return "0" + canonicalJSON(pkt[1:])
	case siox && strings.HasPrefix(pkt, "4"):
		i := strings.IndexAny(pkt, "[{\"")
		if i < 0 {
			return pkt
		}
		return pkt[:i] + canonicalJSON(pkt[i:])
	}
	return pkt
}

// canonicalJSON re-encodes JSON text with sorted keys and made-up ids
// replaced by "<id>"; text that is not JSON is returned as it is.
func canonicalJSON(s string) string {
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	if err := d.Decode(&v); err != nil || d.More() {
		return s
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if str, ok := x.(string); ok && (k == "sid" || k == "pid") && sessionID.MatchString(str) {
					v[k] = "<id>"
				} else {
					v[k] = walk(x)
				}
			}
		case []any:
			for i := range v {
				v[i] = walk(v[i])
			}
		}
		return v
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(walk(v))
	return strings.TrimSuffix(buf.String(), "\n")
}

// A diffCase is run against both servers; their transcripts must match.
type diffCase struct {
	name string
	run  func(p *peer)
	// diverge, when set, is why Switchboard answers differently on purpose:
	// then its transcript must be ours instead of Node's (a note is logged
	// when Node's is the same).
	diverge string
	ours    []string
}

func runDiffCases(t *testing.T, cases []diffCase) {
	node, ours := diffTargets(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Both at once: the transcripts do not depend on each other.
			pn, po := &peer{t: t, tg: node}, &peer{t: t, tg: ours}
			var wg sync.WaitGroup
			for _, p := range []*peer{pn, po} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.run(p)
				}()
			}
			wg.Wait()
			want := pn.out
			if c.diverge != "" {
				want = c.ours
			}
			t.Logf("transcript (go test -v shows it):\n%s", strings.Join(po.out, "\n"))
			if diff := transcriptDiff(want, po.out); diff != "" {
				t.Errorf("Switchboard answers differently from Node:\n%s", diff)
			}
			if c.diverge != "" && transcriptDiff(pn.out, c.ours) == "" {
				// Not a failure: some of Node's answers depend on how its
				// reads coalesce frames. A case that always logs this is
				// out of date.
				t.Logf("NOTE: the case says we diverge (%s), but Node answered the same this time", c.diverge)
			}
		})
	}
}

// transcript joins lines and groups of lines ([]string) into one.
func transcript(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			out = append(out, p)
		case []string:
			out = append(out, p...)
		}
	}
	return out
}

// transcriptDiff shows both transcripts line by line, marking the lines
// that differ; "" when they are equal.
func transcriptDiff(want, got []string) string {
	var b strings.Builder
	same := len(want) == len(got)
	for i := range max(len(want), len(got)) {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		mark := "  "
		if w != g {
			mark, same = "✘ ", false
		}
		fmt.Fprintf(&b, "%snode: %s\n%s  ours: %s\n", mark, w, strings.Repeat(" ", len(mark)-2), g)
	}
	if same {
		return ""
	}
	return b.String()
}

// opsNamespace is js/reference.mjs's "/ops", "/refuse", "/plain" and
// "/dyn-<digits>" in Go: on "/ops" a client asks for server operations by
// event; "/refuse" refuses every socket, with data, "/plain" without; the
// dynamic namespaces tell their name.
func opsNamespace(io *socketio.Server) {
	ops := io.Of("/ops")
	rooms := func(s *socketio.Socket) []string {
		var out []string
		for _, r := range s.Rooms() {
			if r != s.ID() {
				out = append(out, r)
			}
		}
		slices.Sort(out)
		return out
	}
	str := func(e *socketio.Event, i int) string { v, _ := e.Args.String(i); return v }
	rest := func(e *socketio.Event, from int) []any { return e.Args.Values()[min(from, e.Args.Len()):] }
	ops.OnConnection(func(s *socketio.Socket) {
		s.On("join", func(s *socketio.Socket, e *socketio.Event) { s.Join(str(e, 0)); _ = e.Ack(rooms(s)) })
		s.On("leave", func(s *socketio.Socket, e *socketio.Event) { s.Leave(str(e, 0)); _ = e.Ack(rooms(s)) })
		s.On("to", func(s *socketio.Socket, e *socketio.Event) { _ = s.To(str(e, 0)).Emit("got", rest(e, 1)...) })
		s.On("in", func(s *socketio.Socket, e *socketio.Event) { _ = ops.In(str(e, 0)).Emit("got", rest(e, 1)...) })
		s.On("except", func(s *socketio.Socket, e *socketio.Event) { _ = ops.Except(str(e, 0)).Emit("got", rest(e, 1)...) })
		s.On("broadcast", func(s *socketio.Socket, e *socketio.Event) { _ = s.Broadcast().Emit("got", rest(e, 0)...) })
		s.On("all", func(s *socketio.Socket, e *socketio.Event) { _ = ops.Emit("got", rest(e, 0)...) })
		timeout := func(e *socketio.Event) time.Duration {
			var ms int
			_ = e.Args.Decode(0, &ms)
			return time.Duration(ms) * time.Millisecond
		}
		s.On("ask", func(s *socketio.Socket, e *socketio.Event) {
			ctx, cancel := context.WithTimeout(context.Background(), timeout(e))
			defer cancel()
			answer, err := s.EmitWithAck(ctx, "question", rest(e, 1)...)
			if err != nil {
				_ = s.Emit("answer", "timeout")
				return
			}
			_ = s.Emit("answer", append([]any{nil}, answer.Values()...)...)
		})
		s.On("ask room", func(s *socketio.Socket, e *socketio.Event) {
			var ms int
			_ = e.Args.Decode(1, &ms)
			answers, err := ops.In(str(e, 0)).Timeout(time.Duration(ms)*time.Millisecond).EmitWithAck(context.Background(), "question", rest(e, 2)...)
			if err != nil {
				_ = s.Emit("answers", "timeout", len(answers))
				return
			}
			_ = s.Emit("answers", nil, len(answers))
		})
		s.On("disconnect me", func(s *socketio.Socket, e *socketio.Event) {
			var close bool
			_ = e.Args.Decode(0, &close)
			s.Disconnect(close)
		})
		s.On("count", func(s *socketio.Socket, e *socketio.Event) { _ = e.Ack(ops.Count()) })
		s.On("fetch", func(s *socketio.Socket, e *socketio.Event) {
			got, _ := ops.In(str(e, 0)).FetchSockets(context.Background())
			_ = e.Ack(len(got))
		})
		s.On("kick", func(s *socketio.Socket, e *socketio.Event) { _ = ops.In(str(e, 0)).DisconnectSockets(false) })
		s.On("move", func(s *socketio.Socket, e *socketio.Event) { _ = ops.In(str(e, 0)).SocketsJoin(str(e, 1)) })
		s.On("acks", func(s *socketio.Socket, e *socketio.Event) {
			_ = e.Ack(1, "two", map[string]int{"three": 3}, []int{4}, nil)
		})
		s.On("bin", func(s *socketio.Socket, e *socketio.Event) {
			_ = e.Ack([]byte{1, 2, 3}, map[string][]byte{"nested": {4}})
		})
	})
	io.Of("/refuse").Use(func(context.Context, *socketio.Socket) error {
		return &socketio.ConnectError{Message: "nope", Data: map[string]int{"code": 42}}
	})
	io.Of("/plain").Use(func(context.Context, *socketio.Socket) error { return errors.New("plain") })
	io.OfRegexp(regexp.MustCompile(`^/dyn-\d+$`)).OnConnection(func(s *socketio.Socket) {
		_ = s.Emit("nsp", s.Namespace().Name())
	})
}
