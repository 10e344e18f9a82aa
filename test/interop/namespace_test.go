package interop

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"testing"
	"time"

	"switchboard/socketio"
)

// adminServer has a namespace /admin guarded by a token middleware, a
// namespace /closed whose middleware refuses with a plain error, and
// dynamic namespaces /room-<digits>.
func adminServer(t *testing.T) (*server, *sockets) {
	t.Helper()
	return adminServerWith(t, nil)
}

// adminServerWith is adminServer with h as in echoServer.
func adminServerWith(t *testing.T, h func(io *socketio.Server) http.Handler) (*server, *sockets) {
	t.Helper()
	srv, reg := echoServer(t, nil, h)
	admin := srv.Of("/admin")
	admin.Use(func(_ context.Context, s *socketio.Socket) error {
		var a struct {
			Token string `json:"token"`
		}
		if err := json.Unmarshal(s.Handshake().Auth, &a); err != nil || a.Token != "s3cret" {
			return &socketio.ConnectError{
				Message: "unauthorized",
				Data:    map[string]any{"hint": "send a token ✓", "code": 401, "got": a.Token},
			}
		}
		return nil
	})
	admin.OnConnection(func(s *socketio.Socket) {
		reg.track(s)
		s.OnAny(reg.record)
		_ = s.Emit("welcome", s.Namespace().Name())
	})
	admin.On("whoami", func(s *socketio.Socket, e *socketio.Event) {
		_ = e.Ack(s.Namespace().Name(), s.ID(), s.Handshake().Auth, s.Handshake().Query().Get("room"))
	})
	srv.Of("/closed").Use(func(context.Context, *socketio.Socket) error { return errors.New("closed for maintenance") })
	srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`)).OnConnection(func(s *socketio.Socket) {
		reg.track(s)
		_ = s.Emit("welcome", s.Namespace().Name())
	})
	return srv, reg
}

// The client connects to a custom namespace with an auth payload and a
// query; Go sees both in Handshake, and events flow on that namespace only.
func TestCustomNamespaceWithAuth(t *testing.T) {
	t.Parallel()
	srv, reg := adminServer(t)
	n := startNode(t, "client.mjs")
	authPayload := map[string]any{
		"name":   "adm",
		"token":  "s3cret",
		"nested": map[string]any{"list": []any{1, "two ✓", nil}, "flag": true},
	}
	conn := n.connected(t, "adm", srv.URL+"/admin", clientOpts{Opts: map[string]any{
		"auth":  authPayload,
		"query": map[string]any{"room": "lobby", "x": "ünï"},
	}})
	s := reg.get(t, "adm")
	if s.Namespace().Name() != "/admin" || conn.Sid != s.ID() {
		t.Fatalf("server socket %s in %s, client sid %s", s.ID(), s.Namespace().Name(), conn.Sid)
	}
	var gotAuth any
	if err := json.Unmarshal(s.Handshake().Auth, &gotAuth); err != nil {
		t.Fatal(err)
	}
	if want := jsonCanon(t, authPayload); !reflect.DeepEqual(gotAuth, want) {
		t.Fatalf("Handshake().Auth = %s, want %s", s.Handshake().Auth, short(want))
	}
	if q := s.Handshake().Query(); q.Get("room") != "lobby" || q.Get("x") != "ünï" || q.Get("EIO") != "4" {
		t.Errorf("Handshake().Query() = %v", q)
	}
	sameArgs(t, n.event(t, "adm", "welcome"), "/admin")
	if c := srv.Of("/").Count(); c != 0 {
		t.Errorf("the main namespace has %d sockets; socket.io-client 4 connects only to the namespace asked for", c)
	}

	seq := n.emitAck(t, "adm", 0, "whoami")
	reg.event(t, "adm", "whoami")
	sameArgs(t, n.ackOf(t, "adm", seq), "/admin", s.ID(), authPayload, "lobby")

	if err := srv.Of("/admin").Emit("to admins", "only here"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Emit("to main", "not for admins"); err != nil {
		t.Fatal(err)
	}
	sameArgs(t, n.event(t, "adm", "to admins"), "only here")
	n.none(t, 200*time.Millisecond, "an event of the main namespace", func(r *report) bool { return r.Event == "to main" })

	// a dynamic namespace
	conn = n.connected(t, "dyn", srv.URL+"/room-42", clientOpts{Opts: auth("dyn", nil)})
	if s := reg.get(t, "dyn"); s.Namespace().Name() != "/room-42" || s.ID() != conn.Sid {
		t.Fatalf("dynamic namespace: %s %s", s.Namespace().Name(), s.ID())
	}
	sameArgs(t, n.event(t, "dyn", "welcome"), "/room-42")
}

// Middleware refusals reach the client's connect_error with the message
// and data of socketio.ConnectError; the client does not retry by itself,
// and a later attempt with the right token succeeds.
func TestMiddlewareRefusal(t *testing.T) {
	t.Parallel()
	srv, reg := adminServer(t)
	n := startNode(t, "client.mjs")
	fast := map[string]any{"reconnectionDelay": 50, "reconnectionDelayMax": 100}

	n.connect(t, "bad", srv.URL+"/admin", clientOpts{Opts: merge(fast, map[string]any{"auth": map[string]any{"token": "wrong"}})})
	ce := n.want(t, "connect_error", "bad")
	if ce.Message != "unauthorized" {
		t.Errorf("err.message = %q", ce.Message)
	}
	var data any
	if err := json.Unmarshal(ce.Data, &data); err != nil {
		t.Fatal(err)
	}
	if want := jsonCanon(t, map[string]any{"hint": "send a token ✓", "code": 401, "got": "wrong"}); !reflect.DeepEqual(data, want) {
		t.Errorf("err.data = %s, want %s", ce.Data, short(want))
	}
	if ce.Active == nil || *ce.Active {
		t.Errorf("socket.active after a middleware refusal: %v, want false", ce.Active)
	}

	n.connect(t, "closed", srv.URL+"/closed", clientOpts{Opts: fast})
	ce = n.want(t, "connect_error", "closed")
	if ce.Message != "closed for maintenance" || string(ce.Data) != `{"$undefined":true}` {
		t.Errorf("plain error: message %q, data %s; want the error text and no data", ce.Message, ce.Data)
	}

	n.connect(t, "lost", srv.URL+"/nowhere", clientOpts{Opts: fast})
	if ce = n.want(t, "connect_error", "lost"); ce.Message != "Invalid namespace" {
		t.Errorf("unknown namespace: %q", ce.Message)
	}

	n.none(t, 500*time.Millisecond, "a retry", func(r *report) bool {
		return r.T == "connect" || r.T == "connect_error" || r.T == "reconnect_attempt"
	})
	reg.connections.none(t, 0, "connection")

	// as the Socket.IO docs suggest: set socket.auth and connect again
	n.send(t, map[string]any{"op": "reconnect", "c": "bad", "auth": map[string]any{"token": "s3cret", "name": "bad"}})
	conn := n.want(t, "connect", "bad")
	if got := reg.connections.next(t, "connection"); got != "bad" {
		t.Fatalf("connection of %q", got)
	}
	if s := reg.get(t, "bad"); s.ID() != conn.Sid || s.Namespace().Name() != "/admin" {
		t.Fatalf("server socket %s in %s, client sid %s", s.ID(), s.Namespace().Name(), conn.Sid)
	}
	sameArgs(t, n.event(t, "bad", "welcome"), "/admin")
}

// The docs' pattern for refused credentials — in the connect_error handler,
// set socket.auth and call socket.connect() — works on a connection shared
// with another namespace, which stays connected.
func TestRetryWithNewAuthOnASharedConnection(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := adminServer(t)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")
			n.connect(t, "adm", "/admin", clientOpts{
				SameManagerAs: "a",
				Opts:          map[string]any{"auth": map[string]any{"name": "adm", "token": "wrong"}},
				RetryAuth:     map[string]any{"name": "adm", "token": "s3cret"},
			})
			if ce := n.want(t, "connect_error", "adm"); ce.Message != "unauthorized" {
				t.Fatalf("connect_error %q", ce.Message)
			}
			conn := n.want(t, "connect", "adm")
			if s := reg.get(t, "adm"); s.ID() != conn.Sid {
				t.Fatalf("client sid %s, server's %s", conn.Sid, s.ID())
			}
			n.event(t, "adm", "welcome")
			if c := srv.Engine().Count(); c != 1 {
				t.Errorf("%d Engine.IO sessions, want one shared by both namespaces", c)
			}
			roundTrip(t, n, reg, "a", transport)
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
			reg.gone.none(t, 0, "disconnection")
		})
	}
}

func merge(maps ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range maps {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// Past Options.MaxNamespacesPerClient the official client's socket gets
// connect_error "Too many namespaces" and does not retry by itself; the
// connection and its other sockets stay, and once one of them disconnects
// the refused socket's connect() succeeds.
func TestNamespacesPerClientLimit(t *testing.T) {
	t.Parallel()
	opts := options()
	opts.MaxNamespacesPerClient = 2
	srv, reg := echoServer(t, opts, nil)
	srv.OfRegexp(regexp.MustCompile(`^/room-\d+$`)).OnConnection(func(s *socketio.Socket) {
		reg.track(s)
		_ = s.Emit("welcome", s.Namespace().Name())
	})
	n := startNode(t, "client.mjs")
	a := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{"websocket"}})})
	b := n.connected(t, "b", "/room-1", clientOpts{SameManagerAs: "a", Opts: map[string]any{"auth": map[string]any{"name": "b"}}})
	n.connect(t, "c", "/room-2", clientOpts{SameManagerAs: "a", Opts: map[string]any{"auth": map[string]any{"name": "c"}}})
	if ce := n.want(t, "connect_error", "c"); ce.Message != "Too many namespaces" {
		t.Fatalf("connect_error %q, want Too many namespaces", ce.Message)
	}
	n.none(t, 300*time.Millisecond, "a retry or a disconnection", func(r *report) bool {
		return r.C == "c" && r.T == "connect" || r.T == "disconnect"
	})
	if reg.get(t, "a").ID() != a.Sid || reg.get(t, "b").ID() != b.Sid {
		t.Fatal("the sockets connected before changed")
	}
	if c := srv.Engine().Count(); c != 1 {
		t.Errorf("%d Engine.IO sessions, want one shared by the namespaces", c)
	}
	roundTrip(t, n, reg, "a", "websocket")

	n.send(t, map[string]any{"op": "disconnect", "c": "b"})
	reg.disconnected(t, "b", socketio.ReasonClientNamespaceDisconnect)
	n.send(t, map[string]any{"op": "reconnect", "c": "c"})
	n.want(t, "connect", "c")
	sameArgs(t, n.event(t, "c", "welcome"), "/room-2")
}
