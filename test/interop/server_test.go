package interop

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"switchboard/engineio"
	"switchboard/socketio"
)

// server is a Socket.IO server listening on 127.0.0.1 for one test.
type server struct {
	*socketio.Server
	URL string // http://127.0.0.1:port

	http     *http.Server
	done     chan struct{}
	stopOnce sync.Once
}

// options returns server options with Node's defaults except a short
// connect timeout and CORS for every origin.
func options() *socketio.Options {
	return &socketio.Options{
		ConnectTimeout: 5 * time.Second,
		Engine:         engineio.Options{CORS: &engineio.CORS{Origins: []string{"*"}}},
	}
}

// serve runs io on addr ("127.0.0.1:0" for any port) until stopped or the
// end of the test. h serves the HTTP requests; nil means io itself.
func serve(t *testing.T, addr string, io *socketio.Server, h http.Handler) *server {
	t.Helper()
	ln, err := listenRetry(addr)
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = io
	}
	s := &server{Server: io, URL: "http://" + ln.Addr().String(), http: &http.Server{Handler: h}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		_ = s.http.Serve(ln)
	}()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// listenRetry listens on addr, retrying briefly: a port just released by a
// stopped server may take a moment.
func listenRetry(addr string) (net.Listener, error) {
	deadline := time.Now().Add(3 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop closes the Socket.IO server (every socket disconnects with "server
// shutting down"), then the HTTP server. It may be called more than once.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("socketio.Server.Close: %v", err)
		}
		if err := s.http.Shutdown(ctx); err != nil {
			t.Errorf("http.Server.Shutdown: %v", err)
		}
		<-s.done
	})
}

// queue hands values from handlers (other goroutines) to the test.
type queue[T any] struct{ ch chan T }

func newQueue[T any]() *queue[T] { return &queue[T]{ch: make(chan T, 1024)} }

func (q *queue[T]) put(v T) { q.ch <- v }

func (q *queue[T]) next(t *testing.T, what string) T {
	t.Helper()
	select {
	case v := <-q.ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("timed out after %v waiting for the server: %s", waitTimeout, what)
		var zero T
		return zero
	}
}

// none fails the test if a value arrives within d.
func (q *queue[T]) none(t *testing.T, d time.Duration, what string) {
	t.Helper()
	select {
	case v := <-q.ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	case <-time.After(d):
	}
}

// received is an event a Go handler got.
type received struct {
	Socket    string // the client's name (auth.name)
	Event     *socketio.Event
	Transport string // of the socket's connection, when the handler ran
}

// gone is a socket's disconnection seen by the server.
type gone struct {
	Socket string
	Reason socketio.DisconnectReason
}

// sockets registers connected sockets under the name the client sent as
// auth {"name": …} and records their events and disconnections.
type sockets struct {
	mu      sync.Mutex
	byName  map[string]*socketio.Socket
	changed chan struct{}

	connections *queue[string] // names, in connection order
	events      *queue[received]
	gone        *queue[gone]
}

func newSockets() *sockets {
	return &sockets{
		byName:      make(map[string]*socketio.Socket),
		changed:     make(chan struct{}),
		connections: newQueue[string](),
		events:      newQueue[received](),
		gone:        newQueue[gone](),
	}
}

func clientName(s *socketio.Socket) string {
	var auth struct {
		Name string `json:"name"`
	}
	_ = json.Unmarshal(s.Handshake().Auth, &auth)
	return auth.Name
}

// track is an OnConnection handler: it registers s and records its
// disconnection.
func (r *sockets) track(s *socketio.Socket) {
	name := clientName(s)
	s.OnDisconnect(func(s *socketio.Socket, reason socketio.DisconnectReason) {
		r.gone.put(gone{Socket: name, Reason: reason})
	})
	r.mu.Lock()
	r.byName[name] = s
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
	r.connections.put(name)
}

// record is an event handler (use it with OnAny) that records the event.
func (r *sockets) record(s *socketio.Socket, e *socketio.Event) {
	r.events.put(received{Socket: clientName(s), Event: e, Transport: s.Transport()})
}

// get waits until a socket named name has connected and returns it.
func (r *sockets) get(t *testing.T, name string) *socketio.Socket {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		s, changed := r.byName[name], r.changed
		r.mu.Unlock()
		if s != nil {
			return s
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("timed out waiting for socket %q to connect", name)
		}
	}
}

// event waits for the next event the server recorded; it must be named
// event and come from socket name.
func (r *sockets) event(t *testing.T, name, event string) received {
	t.Helper()
	got := r.events.next(t, "event "+event+" from "+name)
	if got.Socket != name || got.Event.Name != event {
		t.Fatalf("server got event %q from %q, want %q from %q", got.Event.Name, got.Socket, event, name)
	}
	return got
}

// disconnected waits for the next disconnection the server saw; it must be
// socket name's with reason.
func (r *sockets) disconnected(t *testing.T, name string, reason socketio.DisconnectReason) {
	t.Helper()
	got := r.gone.next(t, "disconnection of "+name)
	if got.Socket != name || got.Reason != reason {
		t.Fatalf("server saw %q disconnect with %q, want %q with %q", got.Socket, got.Reason, name, reason)
	}
}

// echoArgs returns an event's arguments for sending them back unchanged,
// binary values (nested ones too) as binary.
func echoArgs(e *socketio.Event) []any { return e.Args.Values() }

// auth returns client options that send auth {"name": name}.
func auth(name string, opts map[string]any) map[string]any {
	out := map[string]any{"auth": map[string]any{"name": name}}
	for k, v := range opts {
		out[k] = v
	}
	return out
}

// pollGate holds polling GET requests on their way to the server while
// armed, as a slow network would: the server then has no request to answer
// and queues what it sends.
type pollGate struct {
	mu      sync.Mutex
	armed   bool
	release chan struct{}
	held    chan struct{} // a value for each request held
}

func newPollGate() *pollGate {
	return &pollGate{release: make(chan struct{}), held: make(chan struct{}, 16)}
}

// arm makes the gate hold the next GET requests until open.
func (g *pollGate) arm() {
	g.mu.Lock()
	g.armed = true
	g.mu.Unlock()
}

// open lets the held requests through and stops holding.
func (g *pollGate) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.armed {
		g.armed = false
		close(g.release)
	}
}

// waitHeld waits until a request is held.
func (g *pollGate) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(waitTimeout):
		t.Fatal("no poll request arrived")
	}
}

func (g *pollGate) wrap(io *socketio.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		armed, release := g.armed, g.release
		g.mu.Unlock()
		if armed && r.Method == http.MethodGet && r.URL.Query().Get("transport") == "polling" {
			g.held <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
				return
			case <-time.After(waitTimeout):
			}
		}
		io.ServeHTTP(w, r)
	})
}
