package socketio

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"switchboard/engineio"
	"switchboard/internal/testclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// suiteOptions are the official socket.io-protocol suite's settings.
func suiteOptions() *Options {
	return &Options{
		ConnectTimeout: time.Second,
		Engine: engineio.Options{
			PingInterval:      300 * time.Millisecond,
			PingTimeout:       200 * time.Millisecond,
			MaxHTTPBufferSize: 1_000_000,
			CORS:              &engineio.CORS{Origins: []string{"*"}},
		},
	}
}

type testServer struct {
	*Server
	http *httptest.Server
}

// start runs srv over HTTP until the end of the test.
func start(t *testing.T, srv *Server) *testServer {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	return &testServer{Server: srv, http: hs}
}

// startSuite runs the suite's fixture: "auth" on connection, "message" →
// "message-back", "message-with-ack" → ack, and /custom.
func startSuite(t *testing.T, opts *Options) *testServer {
	t.Helper()
	if opts == nil {
		opts = suiteOptions()
	}
	io := NewServer(opts)
	io.OnConnection(func(s *Socket) {
		_ = s.Emit("auth", s.Handshake().Auth)
		s.On("message", func(s *Socket, e *Event) { _ = s.Emit("message-back", e.Args.Values()...) })
		s.On("message-with-ack", func(s *Socket, e *Event) { _ = e.Ack(e.Args.Values()...) })
	})
	io.Of("/custom").OnConnection(func(s *Socket) { _ = s.Emit("auth", s.Handshake().Auth) })
	return start(t, io)
}

func (ts *testServer) url(query string) string { return ts.http.URL + "/socket.io/?" + query }

func (ts *testServer) ws(t *testing.T) *testclient.Conn {
	t.Helper()
	return testclient.Dial(t, testclient.WSURL(ts.http.URL)+"/socket.io/?EIO=4&transport=websocket")
}

// connect opens a WebSocket session and joins the main namespace with auth
// (may be empty), returning the connection after the CONNECT reply.
func (ts *testServer) connect(t *testing.T, nsp, auth string) (*testclient.Conn, string) {
	t.Helper()
	c := ts.ws(t)
	if open := c.ReadText(); !strings.HasPrefix(open, "0{") {
		t.Fatalf("open packet %q", open)
	}
	prefix := "40"
	if nsp != "/" {
		prefix += nsp + ","
	}
	c.Text(prefix + auth)
	reply := c.ReadSkippingPings()
	if !strings.HasPrefix(reply, prefix+"{") {
		t.Fatalf("CONNECT reply %q", reply)
	}
	var sid struct{ Sid string }
	if err := json.Unmarshal([]byte(reply[len(prefix):]), &sid); err != nil || len(sid.Sid) != 20 {
		t.Fatalf("CONNECT reply %q", reply)
	}
	return c, sid.Sid
}

var do = testclient.Do

// oneSocket starts a server with default test options and connects one
// WebSocket client to its main namespace: the server, the client's
// connection and the server's socket for it.
func oneSocket(t *testing.T) (*Server, *testServer, *testclient.Conn, *Socket) {
	t.Helper()
	io := NewServer(quietOptions())
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { sockets.add(s) })
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	return io, ts, c, sockets.next(t)
}
