package socketio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/internal/testclient"
	"switchboard/socketio/parser"
)

func quietOptions() *Options {
	o := suiteOptions()
	o.Engine.PingInterval = 10 * time.Second
	o.Engine.PingTimeout = 10 * time.Second
	return o
}

// events collects values from handlers running on other goroutines.
type events[T any] struct {
	ch chan T
}

func newEvents[T any]() events[T] { return events[T]{ch: make(chan T, 64)} }

func (e events[T]) add(v T) { e.ch <- v }

func (e events[T]) next(t *testing.T) T {
	t.Helper()
	select {
	case v := <-e.ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("timed out waiting for a handler")
		var zero T
		return zero
	}
}

func TestMiddlewareRefusalSendsConnectErrorWithData(t *testing.T) {
	io := NewServer(quietOptions())
	io.Use(func(_ context.Context, s *Socket) error {
		if !strings.Contains(string(s.Handshake().Auth), "secret") {
			return &ConnectError{Message: "unauthorized", Data: map[string]string{"reason": "no token"}}
		}
		return nil
	})
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	c.Text(`40{"token":"wrong"}`)
	if msg := c.ReadText(); msg != `44{"message":"unauthorized","data":{"reason":"no token"}}` {
		t.Fatalf("got %q", msg)
	}
	c.Text(`40{"token":"secret"}`) // the connection stays usable
	if msg := c.ReadText(); !strings.HasPrefix(msg, `40{"sid":"`) {
		t.Fatalf("got %q", msg)
	}
}

// A connection middleware that panics refuses the connection with a
// generic message: the panic's value (internals, perhaps secrets) goes to
// the server's log with a stack trace, never to the client.
func TestPanickingMiddlewareRefusesWithoutTellingTheClientWhy(t *testing.T) {
	o, logs := loggedOptions()
	io := NewServer(o)
	io.Use(func(_ context.Context, s *Socket) error {
		panic("dial postgres://admin:hunter2@db: connection refused")
	})
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	c.Text(`40`)
	if msg := c.ReadText(); msg != `44{"message":"internal server error"}` {
		t.Fatalf("got %q", msg)
	}
	got := logs()
	if !strings.Contains(got, "middleware panicked") || !strings.Contains(got, "hunter2") || !strings.Contains(got, "socket_test.go") {
		t.Fatalf("the log does not carry the panic and its stack:\n%s", got)
	}
}

// A panic in a connection handler goes where an event handler's goes: to
// the OnError handler the socket has by then (as a *PanicError carrying the
// value and the stack), and the socket stays connected with the handlers
// registered before the panic.
func TestConnectionHandlerPanicIsReportedToOnError(t *testing.T) {
	io := NewServer(quietOptions())
	reported := newEvents[error]()
	events := newEvents[string]()
	io.OnConnection(func(s *Socket) {
		s.OnError(func(s *Socket, err error) { reported.add(err) })
		s.On("ping", func(s *Socket, e *Event) { events.add("ping") })
		panic(fmt.Errorf("load profile: %w", context.DeadlineExceeded))
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	err := reported.next(t)
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Handler != "connection handler" || !strings.Contains(string(pe.Stack), "socket_test.go") {
		t.Fatalf("reported %#v, want a *PanicError of the connection handler with its stack", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "connection handler panicked: load profile") {
		t.Errorf("the error does not carry the panic's value: %v", err)
	}
	c.Text(`42["ping"]`)
	if got := events.next(t); got != "ping" {
		t.Fatalf("got %q", got)
	}
}

// Without an OnError handler, a handler's panic is logged at level Error
// with its stack, whichever handler it was.
func TestHandlerPanicsWithoutOnErrorAreLoggedWithTheirStack(t *testing.T) {
	o, logs := loggedOptions()
	io := NewServer(o)
	done := newEvents[string]()
	io.OnConnection(func(s *Socket) {
		s.On("boom", func(s *Socket, e *Event) { panic("event kaboom") })
		s.On("after", func(s *Socket, e *Event) { done.add("after") })
		panic("connection kaboom")
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`42["boom"]`)
	c.Text(`42["after"]`)
	done.next(t)
	got := logs()
	for _, want := range []string{
		`level=ERROR msg="socketio: connection handler panicked"`, "panic=\"connection kaboom\"",
		`level=ERROR msg="socketio: handler of \"boom\" panicked"`, "panic=\"event kaboom\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %s:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "socket_test.go"); n < 2 {
		t.Errorf("the log carries %d stacks, want 2:\n%s", n, got)
	}
}

// loggedOptions returns quietOptions logging as text into a buffer, and a
// function returning what was logged so far.
func loggedOptions() (*Options, func() string) {
	var logs bytes.Buffer
	var mu sync.Mutex
	o := quietOptions()
	o.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	return o, func() string {
		mu.Lock()
		defer mu.Unlock()
		return logs.String()
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Rooms joined in a connection middleware (Node: socket.join in io.use,
// e.g. a user's own room once authenticated) are the socket's once it
// connects; a refused socket is in none.
func TestJoinInAConnectionMiddlewareTakesEffectOnConnect(t *testing.T) {
	io := NewServer(quietOptions())
	io.Use(func(_ context.Context, s *Socket) error {
		s.Join("vip", "lobby")
		s.Leave("lobby")
		if strings.Contains(string(s.Handshake().Auth), "refuse") {
			return errors.New("refused")
		}
		return nil
	})
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { sockets.add(s) })
	ts := start(t, io)

	refused := ts.ws(t)
	refused.ReadText()
	refused.Text(`40{"refuse":true}`)
	if msg := refused.ReadText(); msg != `44{"message":"refused"}` {
		t.Fatalf("got %q", msg)
	}
	a, _ := ts.connect(t, "/", "")
	sa := sockets.next(t)
	if got := sa.Rooms(); !slices.Equal(got, []string{sa.ID(), "vip"}) {
		t.Fatalf("rooms %v, want [%s vip]", got, sa.ID())
	}
	_ = io.To("vip").Emit("members only")
	if got := a.ReadSkippingPings(); got != `42["members only"]` {
		t.Fatalf("got %q", got)
	}
	ids, err := io.Of("/").Adapter().Sockets(context.Background(), []string{"vip"})
	if err != nil || !slices.Equal(ids, []string{sa.ID()}) {
		t.Fatalf("vip holds %v (%v), want only the connected socket", ids, err)
	}
}

func TestRoomsAndBroadcastOperators(t *testing.T) {
	io, a, b, c, _, sb, sc := redAndBlue(t)

	_ = io.To("red").Except("blue").Emit("only a")
	_ = sb.To("blue").Emit("from b to blue, not b") // reaches c only
	_ = sb.Broadcast().Emit("from b to all but b")
	_ = io.In(sc.ID()).Emit("private to c")
	_ = io.Emit("everyone")

	want := map[*testclient.Conn][]string{
		a: {`42["only a"]`, `42["from b to all but b"]`, `42["everyone"]`},
		b: {`42["everyone"]`},
		c: {`42["from b to blue, not b"]`, `42["from b to all but b"]`, `42["private to c"]`, `42["everyone"]`},
	}
	for conn, msgs := range want {
		for _, m := range msgs {
			if got := conn.ReadSkippingPings(); got != m {
				t.Fatalf("got %q, want %q", got, m)
			}
		}
	}
	rooms := sb.Rooms()
	slices.Sort(rooms[1:])
	if rooms[0] != sb.ID() || !slices.Equal(rooms[1:], []string{"blue", "red"}) {
		t.Fatalf("rooms %v", rooms)
	}
	sb.Leave("red")
	if got := sb.Rooms(); slices.Contains(got, "red") {
		t.Fatalf("still in red: %v", got)
	}
}

func TestServerEmitWithAckReturnsTheClientsAnswer(t *testing.T) {
	_, _, c, s := oneSocket(t)
	type result struct {
		args Args
		err  error
	}
	got := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		args, err := s.EmitWithAck(ctx, "question", "q", []byte{7})
		got <- result{args, err}
	}()
	msg, _ := c.Read()
	// 451-<id>["question","q",{placeholder}] then the attachment
	if !strings.HasPrefix(msg, "451-") || !strings.HasSuffix(msg, `["question","q",{"_placeholder":true,"num":0}]`) {
		t.Fatalf("emit %q", msg)
	}
	id := msg[len("451-"):strings.IndexByte(msg, '[')]
	if att, bin := c.Read(); att != "\x07" || !bin {
		t.Fatalf("attachment %q", att)
	}
	c.Text("461-" + id + `["answer",{"_placeholder":true,"num":0}]`)
	c.Binary([]byte{9, 9})
	r := <-got
	if r.err != nil {
		t.Fatal(r.err)
	}
	if str, _ := r.args.String(0); str != "answer" {
		t.Fatalf("ack args %v", r.args)
	}
	if b, _ := r.args.Bytes(1); string(b) != "\x09\x09" {
		t.Fatalf("binary ack %v", b)
	}
}

func TestServerEmitWithAckTimesOutWithoutClosingTheSocket(t *testing.T) {
	_, _, c, s := oneSocket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := s.EmitWithAck(ctx, "question")
	if !errors.Is(err, ErrAckTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if !s.Connected() {
		t.Fatal("a timed-out ack disconnected the socket")
	}
	c.ReadSkippingPings()
	_ = s.Emit("still here")
	if msg := c.ReadSkippingPings(); msg != `42["still here"]` {
		t.Fatalf("got %q", msg)
	}
}

func TestBroadcastWithAckAggregatesResponses(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	var clients []*testclient.Conn
	for i := 0; i < 3; i++ {
		c, _ := ts.connect(t, "/", "")
		clients = append(clients, c)
	}
	done := make(chan []Args, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := io.Timeout(2*time.Second).EmitWithAck(context.Background(), "vote")
		done <- res
		errc <- err
	}()
	for i, c := range clients {
		msg := c.ReadSkippingPings()
		id := msg[2:strings.IndexByte(msg, '[')]
		if i < 2 { // the third never answers
			c.Text("43" + id + `["yes"]`)
		}
	}
	res := <-done
	err := <-errc
	if !errors.Is(err, ErrAckTimeout) || len(res) != 2 {
		t.Fatalf("%d responses, err %v", len(res), err)
	}
	if v, _ := res[0].String(0); v != "yes" {
		t.Fatalf("response %q", v)
	}
}

// A broadcast with acknowledgements waits for the sockets it reached: one
// already disconnected but not yet torn down (its teardown queued behind a
// handler that is still running) is neither sent the event nor counted.
func TestBroadcastWithAckCountsOnlyTheSocketsItReached(t *testing.T) {
	io := NewServer(quietOptions())
	release := make(chan struct{})
	blocked := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) {
		s.On("block", func(s *Socket, _ *Event) {
			blocked <- s
			<-release
		})
	})
	ts := start(t, io)
	defer close(release)
	a, _ := ts.connect(t, "/", "")
	b, _ := ts.connect(t, "/", "")
	a.Text(`42["block"]`)
	sa := <-blocked
	sa.Disconnect(false) // connected no more; its teardown waits for "block"
	if msg := a.ReadSkippingPings(); msg != "41" {
		t.Fatalf("a got %q, want the DISCONNECT", msg)
	}
	done := make(chan []Args, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := io.Timeout(5*time.Second).EmitWithAck(context.Background(), "vote")
		done <- res
		errc <- err
	}()
	msg := b.ReadSkippingPings()
	b.Text("43" + msg[2:strings.IndexByte(msg, '[')] + `["yes"]`)
	select {
	case res := <-done:
		if err := <-errc; err != nil || len(res) != 1 {
			t.Fatalf("%d responses, err %v", len(res), err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the broadcast still waits for the disconnected socket")
	}
}

func TestDisconnectReasonsAndTheDisconnectingHook(t *testing.T) {
	type seen struct {
		event  string
		reason DisconnectReason
		rooms  []string
	}
	io := NewServer(quietOptions())
	got := newEvents[seen]()
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) {
		s.Join("lobby")
		s.On("disconnecting", func(s *Socket, e *Event) { got.add(seen{"disconnecting", e.Reason, s.Rooms()}) })
		s.OnDisconnect(func(s *Socket, r DisconnectReason) { got.add(seen{"disconnect", r, s.Rooms()}) })
		sockets.add(s)
	})
	ts := start(t, io)

	cases := []struct {
		name   string
		act    func(c *testclient.Conn, s *Socket)
		reason DisconnectReason
	}{
		{"client namespace disconnect", func(c *testclient.Conn, s *Socket) { c.Text("41") }, ReasonClientNamespaceDisconnect},
		{"transport close", func(c *testclient.Conn, s *Socket) { c.Text("1") }, ReasonTransportClose},
		{"abrupt close", func(c *testclient.Conn, s *Socket) { c.Close() }, ReasonTransportClose},
		{"server namespace disconnect", func(c *testclient.Conn, s *Socket) { s.Disconnect(false) }, ReasonServerNamespaceDisconnect},
		{"parse error", func(c *testclient.Conn, s *Socket) { c.Text("4zzz") }, ReasonParseError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := ts.connect(t, "/", "")
			s := sockets.next(t)
			tc.act(c, s)
			d := got.next(t)
			if d.event != "disconnecting" || d.reason != tc.reason || !slices.Contains(d.rooms, "lobby") {
				t.Fatalf("disconnecting: %+v", d)
			}
			d = got.next(t)
			if d.event != "disconnect" || d.reason != tc.reason || len(d.rooms) != 0 {
				t.Fatalf("disconnect: %+v", d)
			}
			if s.Connected() {
				t.Fatal("still connected")
			}
			if err := s.Emit("late"); !errors.Is(err, ErrDisconnected) {
				t.Fatalf("emit after disconnect: %v", err)
			}
		})
	}
}

func TestServerSideDisconnectTellsTheClient(t *testing.T) {
	_, _, c, s := oneSocket(t)
	s.Disconnect(true)
	if msg := c.ReadSkippingPings(); msg != "41" {
		t.Fatalf("got %q, want the DISCONNECT packet", msg)
	}
	c.ExpectClosed()
}

func TestServerCloseDisconnectsEverySocketWithShutdownReason(t *testing.T) {
	io := NewServer(quietOptions())
	reasons := newEvents[DisconnectReason]()
	io.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(s *Socket, r DisconnectReason) { reasons.add(r) })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := io.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select { // Close returns after the disconnect handlers ran
	case r := <-reasons.ch:
		if r != ReasonServerShuttingDown {
			t.Fatalf("reason %q", r)
		}
	default:
		t.Fatal("Close returned before the disconnect handler ran")
	}
	c.ExpectClosed()
}

func TestDynamicNamespaces(t *testing.T) {
	io := NewServer(quietOptions())
	parent := io.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	names := newEvents[string]()
	parent.OnConnection(func(s *Socket) { names.add(s.Namespace().Name()) })
	ts := start(t, io)
	c, _ := ts.connect(t, "/room-42", "")
	if n := names.next(t); n != "/room-42" {
		t.Fatalf("namespace %q", n)
	}
	_ = parent.Emit("hello")
	if msg := c.ReadSkippingPings(); msg != `42/room-42,["hello"]` {
		t.Fatalf("got %q", msg)
	}
	c.Text("40/room-x")
	if msg := c.ReadSkippingPings(); msg != `44/room-x,{"message":"Invalid namespace"}` {
		t.Fatalf("got %q", msg)
	}
}

func TestOnAnyAndPacketMiddleware(t *testing.T) {
	io := NewServer(quietOptions())
	seen := newEvents[string]()
	io.OnConnection(func(s *Socket) {
		s.OnAny(func(s *Socket, e *Event) { seen.add("any:" + e.Name) })
		s.Use(func(s *Socket, e *Event) error {
			if e.Name == "forbidden" {
				return errors.New("not allowed")
			}
			return nil
		})
		s.OnError(func(s *Socket, err error) { seen.add("error:" + err.Error()) })
		s.On("ok", func(s *Socket, e *Event) { seen.add("ok") })
		s.On("forbidden", func(s *Socket, e *Event) { seen.add("forbidden ran") })
		s.On("boom", func(s *Socket, e *Event) { panic("kaboom") })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`42["ok"]`)
	c.Text(`42["forbidden"]`)
	c.Text(`42["boom"]`)
	c.Text(`42["ok"]`)
	want := []string{"any:ok", "ok", "any:forbidden", "error:not allowed", "any:boom"}
	for _, w := range want {
		if got := seen.next(t); got != w {
			t.Fatalf("got %q, want %q", got, w)
		}
	}
	if got := seen.next(t); !strings.HasPrefix(got, "error:") || !strings.Contains(got, "kaboom") {
		t.Fatalf("panic not reported: %q", got)
	}
	if got := seen.next(t); got != "any:ok" { // the socket survived the panic
		t.Fatalf("got %q", got)
	}
}

func TestHandlersOfASocketRunInOrderAndMayBlockOnAcks(t *testing.T) {
	io := NewServer(quietOptions())
	results := newEvents[string]()
	io.OnConnection(func(s *Socket) {
		s.On("ask", func(s *Socket, e *Event) {
			// Blocking on the client's ack inside a handler must not deadlock:
			// the reader resolves acks without waiting for the handler.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			args, err := s.EmitWithAck(ctx, "question")
			if err != nil {
				results.add("error " + err.Error())
				return
			}
			a, _ := args.String(0)
			results.add("answer " + a)
		})
		s.On("next", func(s *Socket, e *Event) { results.add("next") })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`42["ask"]`)
	c.Text(`42["next"]`)
	msg := c.ReadSkippingPings()
	id := msg[2:strings.IndexByte(msg, '[')]
	c.Text("43" + id + `["42"]`)
	if r := results.next(t); r != "answer 42" {
		t.Fatalf("got %q", r)
	}
	if r := results.next(t); r != "next" {
		t.Fatalf("got %q", r)
	}
}

func TestBulkOperationsAndFetchSockets(t *testing.T) {
	io := NewServer(quietOptions())
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { s.SetData("user-" + s.ID()[:4]); sockets.add(s) })
	ts := start(t, io)
	c1, _ := ts.connect(t, "/", "")
	s1 := sockets.next(t)
	_, _ = ts.connect(t, "/", "")
	s2 := sockets.next(t)
	if err := io.In(s1.ID()).SocketsJoin("vip"); err != nil {
		t.Fatal(err)
	}
	list, err := io.In("vip").FetchSockets(context.Background())
	if err != nil || len(list) != 1 || list[0].ID != s1.ID() || list[0].Data != "user-"+s1.ID()[:4] || list[0].Handshake == nil {
		t.Fatalf("fetch: %+v %v", list, err)
	}
	if err := list[0].Emit("hi vip"); err != nil {
		t.Fatal(err)
	}
	if msg := c1.ReadSkippingPings(); msg != `42["hi vip"]` {
		t.Fatalf("got %q", msg)
	}
	_ = io.SocketsLeave("vip")
	if list, _ := io.In("vip").FetchSockets(context.Background()); len(list) != 0 {
		t.Fatalf("vip after leave: %d", len(list))
	}
	_ = io.Except(s1.ID()).DisconnectSockets(false)
	deadline := time.Now().Add(3 * time.Second)
	for s2.Connected() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if s2.Connected() || !s1.Connected() {
		t.Fatalf("s1 %v s2 %v", s1.Connected(), s2.Connected())
	}
}

func TestEmitRefusesReservedNamesAndTooManyAttachments(t *testing.T) {
	io := NewServer(quietOptions())
	if err := io.Emit("disconnect"); !errors.Is(err, ErrReservedEvent) {
		t.Fatalf("reserved: %v", err)
	}
	args := make([]any, 11)
	for i := range args {
		args[i] = []byte{1}
	}
	if err := io.Emit("many", args...); err == nil {
		t.Fatal("11 attachments accepted")
	}
	_ = io.Close(context.Background())
}

func TestAckIsSentOnceAndMayBeCalledLater(t *testing.T) {
	io := NewServer(quietOptions())
	acks := newEvents[func(...any) error]()
	io.OnConnection(func(s *Socket) {
		s.On("later", func(s *Socket, e *Event) { acks.add(e.Ack) })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`427["later"]`)
	ack := acks.next(t)
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- ack("done") }()
	}
	wg.Wait()
	close(errs)
	var sent, refused int
	for err := range errs {
		switch {
		case err == nil:
			sent++
		case errors.Is(err, ErrAckSent):
			refused++
		}
	}
	if sent != 1 || refused != 1 {
		t.Fatalf("sent %d refused %d", sent, refused)
	}
	if msg := c.ReadSkippingPings(); msg != `437["done"]` {
		t.Fatalf("got %q", msg)
	}
}

func TestClientBundleIsServedWithETag(t *testing.T) {
	if !ClientBundleAvailable() {
		t.Fatal("client bundle not built: run scripts/deps.sh bundle")
	}
	io := NewServer(quietOptions())
	ts := start(t, io)
	code, body, h := do(t, "GET", ts.http.URL+"/socket.io/socket.io.min.js", "")
	if code != 200 || !strings.Contains(body, "io") || h.Get("ETag") == "" || !strings.HasPrefix(h.Get("Content-Type"), "application/javascript") {
		t.Fatalf("%d %v", code, h)
	}
	if code, _, _ := do(t, "GET", ts.http.URL+"/socket.io/socket.io.min.js", "", "If-None-Match", h.Get("ETag")); code != 304 {
		t.Fatalf("conditional GET: %d", code)
	}
	for _, f := range []string{"socket.io.js", "socket.io.js.map", "socket.io.esm.min.js", "socket.io.min.js.map"} {
		if code, _, _ := do(t, "GET", ts.http.URL+"/socket.io/"+f, ""); code != 200 {
			t.Errorf("%s: %d", f, code)
		}
	}
}

func TestOnConnectionAliasAsInNode(t *testing.T) {
	io := NewServer(quietOptions())
	got := newEvents[string]()
	io.On("connection", func(socket *Socket, e *Event) { got.add(e.Name + " " + socket.Namespace().Name()) })
	ts := start(t, io)
	ts.connect(t, "/", "")
	if g := got.next(t); g != "connection /" {
		t.Fatalf("got %q", g)
	}
}

func TestHandshakeDescribesTheOpeningRequest(t *testing.T) {
	io := NewServer(quietOptions())
	got := newEvents[*Handshake]()
	io.OnConnection(func(s *Socket) { got.add(s.Handshake()) })
	ts := start(t, io)
	h := http.Header{}
	h.Set("Cookie", "session=abc")
	h.Set("Origin", "http://example.test")
	c, err := testclient.DialHeader(t, testclient.WSURL(ts.http.URL)+"/socket.io/?EIO=4&transport=websocket&room=42", h)
	if err != nil {
		t.Fatal(err)
	}
	c.ReadText()
	c.Text(`40{"token":"t"}`)
	hs := got.next(t)
	if hs.Headers.Get("Cookie") != "session=abc" || hs.Headers.Get("Sec-Websocket-Key") != "" || !hs.XDomain {
		t.Fatalf("headers %v xdomain %v", hs.Headers, hs.XDomain)
	}
	if hs.Query().Get("room") != "42" || !strings.HasPrefix(hs.URL, "/socket.io/?") || string(hs.Auth) != `{"token":"t"}` {
		t.Fatalf("url %q auth %s", hs.URL, hs.Auth)
	}
	if hs.Address == "" || hs.Time.IsZero() || hs.Secure {
		t.Fatalf("address %q time %v secure %v", hs.Address, hs.Time, hs.Secure)
	}
}

func TestAFloodingClientIsSlowedDownNotBuffered(t *testing.T) {
	opts := quietOptions()
	opts.Engine.PingInterval = 300 * time.Millisecond
	opts.Engine.PingTimeout = 200 * time.Millisecond
	io := NewServer(opts)
	release := make(chan struct{})
	var handled sync.WaitGroup
	clients := newEvents[*client]()
	io.OnConnection(func(s *Socket) {
		clients.add(s.client)
		s.On("work", func(s *Socket, e *Event) {
			<-release // a slow handler: a database write, say
			handled.Done()
		})
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	cl := clients.next(t)
	const n = 5000
	handled.Add(n)
	sent := make(chan struct{})
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := 0; i < n; i++ {
			c.Text(`42["work","` + strings.Repeat("x", 100) + `"]`)
		}
		close(sent)
		for { // then behave: answer the pings
			select {
			case <-stop:
				return
			default:
			}
			if msg, _, err := c.TryRead(200 * time.Millisecond); err == nil && msg == "2" {
				c.Text("3")
			}
		}
	}()
	time.Sleep(1500 * time.Millisecond) // several ping intervals with the reader paused
	cl.runMu.Lock()
	peak, paused := cl.peak, cl.paused
	cl.runMu.Unlock()
	if !paused || peak > runHighWater+1 {
		t.Fatalf("paused %v, peak backlog %d (high water %d)", paused, peak, runHighWater)
	}
	close(release)
	<-sent
	done := make(chan struct{})
	go func() { handled.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("not every event was handled after the handler caught up")
	}
	time.Sleep(700 * time.Millisecond) // a full heartbeat after the backlog
	if io.main.Count() != 1 {
		t.Fatal("the client was disconnected (a pong the paused reader could not read?)")
	}
}

func TestEmptyDynamicNamespacesAreCleanedUpWhenAsked(t *testing.T) {
	opts := quietOptions()
	opts.CleanupEmptyChildNamespaces = true
	io := NewServer(opts)
	parent := io.OfRegexp(regexp.MustCompile(`^/room-\d+$`))
	left := newEvents[string]()
	parent.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(s *Socket, r DisconnectReason) { left.add(s.Namespace().Name()) })
	})
	ts := start(t, io)
	for i := 0; i < 2; i++ { // the second time a fresh namespace is created
		c, _ := ts.connect(t, "/room-7", "")
		if got := len(parent.Children()); got != 1 {
			t.Fatalf("round %d: %d children", i, got)
		}
		c.Text("41/room-7,")
		left.next(t)
		deadline := time.Now().Add(3 * time.Second)
		for len(parent.Children()) != 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if got := len(parent.Children()); got != 0 {
			t.Fatalf("round %d: %d children after the last socket left", i, got)
		}
		io.mu.RLock()
		_, still := io.nsps["/room-7"]
		io.mu.RUnlock()
		if still {
			t.Fatalf("round %d: the namespace is still registered", i)
		}
	}
}

// A socket is told it is connected before anything else of its namespace
// reaches it, as in Node (which joins and sends CONNECT in one step): a
// broadcast running while it connects either misses it or comes after its
// CONNECT reply, never before.
func TestBroadcastsNeverOvertakeTheConnectReply(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, op := range []func(){
		func() { _ = io.Emit("tick") },
		func() { _ = io.DisconnectSockets(false) },
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					op()
				}
			}
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	for i := range 100 {
		c := ts.ws(t)
		c.ReadText() // open
		c.Text("40")
		if reply := c.ReadSkippingPings(); !strings.HasPrefix(reply, `40{"sid":`) {
			t.Fatalf("client %d: %q before the CONNECT reply", i, reply)
		}
		c.Close()
	}
}

// Join called from another goroutine while the socket disconnects either
// happens before the teardown (which then removes the room) or not at all:
// the adapter keeps no trace of a socket that is gone.
func TestJoinRacingADisconnectLeavesNothingBehind(t *testing.T) {
	io := NewServer(quietOptions())
	sockets := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) { sockets <- s })
	ts := start(t, io)
	for range 200 {
		c, _ := ts.connect(t, "/", "")
		s := <-sockets
		done := make(chan struct{})
		go func() {
			defer close(done)
			for s.Connected() {
				s.Join("r")
			}
		}()
		c.Close()
		<-done
	}
	deadline := time.Now().Add(5 * time.Second)
	for io.Of("/").Count() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	ctx := context.Background()
	if ids, _ := io.Of("/").Adapter().Sockets(ctx, nil); len(ids) != 0 {
		t.Fatalf("the adapter still knows %d sockets that are gone", len(ids))
	}
	if ids, _ := io.Of("/").Adapter().Sockets(ctx, []string{"r"}); len(ids) != 0 {
		t.Fatalf("room r keeps %d sockets that are gone", len(ids))
	}
}

// EmitWithAck racing with the socket's disconnection returns
// ErrDisconnected; it never waits for an answer that cannot come (with no
// deadline, it would wait forever). The hook puts the whole teardown between
// EmitWithAck's check that the socket is connected and its waiter.
func TestEmitWithAckRacingADisconnectReturns(t *testing.T) {
	io := NewServer(quietOptions())
	sockets := make(chan *Socket, 1)
	gone := make(chan struct{})
	io.OnConnection(func(s *Socket) {
		s.On("disconnect", func(*Socket, *Event) { close(gone) })
		sockets <- s
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "") // never answers
	defer c.Close()
	s := <-sockets
	testHookEmitWithAck = func() {
		s.Disconnect(false)
		<-gone
	}
	defer func() { testHookEmitWithAck = nil }()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := s.EmitWithAck(ctx, "question"); !errors.Is(err, ErrDisconnected) {
		t.Fatalf("EmitWithAck returned %v, want ErrDisconnected", err)
	}
}

// socket.disconnect().connect() in the official client sends DISCONNECT and
// CONNECT back to back: the second is a fresh connection to the namespace,
// never "unexpected" (the first one's teardown may still be queued).
func TestDisconnectThenConnectAtOnceReconnects(t *testing.T) {
	io := NewServer(quietOptions())
	started, release := make(chan struct{}), make(chan struct{})
	io.OnConnection(func(s *Socket) {
		s.On("slow", func(*Socket, *Event) {
			close(started)
			<-release
		})
	})
	ts := start(t, io)
	c, sid := ts.connect(t, "/", "")
	c.Text(`42["slow"]`)
	<-started // the runner is busy: the teardown will wait behind "slow"
	c.Text("41")
	c.Text("40")
	time.Sleep(50 * time.Millisecond) // the reader has seen both
	close(release)
	reply := c.ReadSkippingPings()
	if !strings.HasPrefix(reply, `40{"sid":`) || strings.Contains(reply, sid) {
		t.Fatalf("got %q, want a new CONNECT reply", reply)
	}
}

// A connection that closes while one of its sockets connects (after the
// middlewares, before the socket joins the namespace) leaves no socket
// behind: the socket is torn down, and its "connection" handlers do not run.
func TestAConnectionClosingWhileItsSocketConnectsLeavesNoSocket(t *testing.T) {
	io := NewServer(quietOptions())
	var handled atomic.Int32
	io.OnConnection(func(*Socket) { handled.Add(1) })
	ts := start(t, io)
	hookDone := make(chan struct{})
	hook := func(c *client) {
		defer close(hookDone)
		c.sess.Close()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			if closed {
				return
			}
		}
		t.Error("the client never saw its connection close")
	}
	testHookConnectJoined.Store(&hook)
	defer testHookConnectJoined.Store(nil)
	c := ts.ws(t)
	c.ReadText()
	c.Text("40")
	c.ExpectClosed()
	<-hookDone
	time.Sleep(100 * time.Millisecond) // the rest of the connect, and the teardown
	if n := io.Of("/").Count(); n != 0 {
		t.Fatalf("%d sockets left in the namespace of a closed connection", n)
	}
	if ids, _ := io.Of("/").Adapter().Sockets(context.Background(), nil); len(ids) != 0 {
		t.Fatalf("the adapter still knows %d sockets", len(ids))
	}
	if n := handled.Load(); n != 0 {
		t.Fatalf("connection handlers ran %d times for a socket whose connection had closed", n)
	}
}

// A handler waiting in EmitWithAck without a deadline when the client goes
// away gets ErrDisconnected, and the socket's disconnect handlers run. (In
// Node the connection's teardown never waits for a pending acknowledgement.)
func TestEmitWithAckInAHandlerReturnsWhenTheClientGoesAway(t *testing.T) {
	io := NewServer(quietOptions())
	results := newEvents[string]()
	io.OnConnection(func(s *Socket) {
		s.On("ask", func(s *Socket, e *Event) {
			results.add("asking")
			_, err := s.EmitWithAck(context.Background(), "question")
			if errors.Is(err, ErrDisconnected) {
				results.add("ErrDisconnected")
			} else {
				results.add("other")
			}
		})
		s.OnDisconnect(func(s *Socket, r DisconnectReason) { results.add("disconnect " + string(r)) })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`42["ask"]`)
	if r := results.next(t); r != "asking" {
		t.Fatalf("got %q", r)
	}
	c.ReadSkippingPings() // the question, never answered
	c.Close()
	if r := results.next(t); r != "ErrDisconnected" {
		t.Fatalf("got %q, want ErrDisconnected", r)
	}
	if r := results.next(t); r != "disconnect transport close" {
		t.Fatalf("got %q", r)
	}
}

// The official client sends a second CONNECT when connect() is called again
// before the server's reply (socket.connect() twice on an open Manager, or
// disconnect().connect() while connecting). Node keeps the connection (it
// even connects a second socket); the duplicate is ignored here: one reply,
// the connection stays open.
func TestASecondConnectWhileTheFirstIsPendingKeepsTheConnection(t *testing.T) {
	io := NewServer(quietOptions())
	slow := io.Of("/slow")
	slow.Use(func(context.Context, *Socket) error {
		time.Sleep(200 * time.Millisecond)
		return nil
	})
	connections := newEvents[string]()
	slow.OnConnection(func(s *Socket) {
		connections.add(s.ID())
		s.On("ping", func(s *Socket, e *Event) { _ = s.Emit("pong") })
	})
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText() // open
	c.Text("40/slow,")
	c.Text("40/slow,")
	reply := c.ReadSkippingPings()
	if !strings.HasPrefix(reply, `40/slow,{"sid":`) {
		t.Fatalf("got %q, want the CONNECT reply", reply)
	}
	c.Text(`42/slow,["ping"]`)
	if msg := c.ReadSkippingPings(); msg != `42/slow,["pong"]` {
		t.Fatalf("got %q, want the pong", msg)
	}
	connections.next(t)
	if n := slow.Count(); n != 1 {
		t.Fatalf("%d sockets in /slow, want 1", n)
	}
}

// An Ack whose arguments cannot be encoded sends nothing and may be called
// again: in Node the ack function only counts as called once its packet
// was written (a throwing JSON.stringify leaves it callable).
func TestAckThatFailsToEncodeMayBeRetried(t *testing.T) {
	io := NewServer(quietOptions())
	errs := newEvents[error]()
	io.OnConnection(func(s *Socket) {
		s.On("q", func(s *Socket, e *Event) {
			errs.add(e.Ack(make(chan int)))
			errs.add(e.Ack("ok"))
		})
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`425["q"]`)
	if err := errs.next(t); err == nil {
		t.Fatal("Ack(chan) returned nil")
	}
	if err := errs.next(t); err != nil {
		t.Fatalf("the retry returned %v", err)
	}
	if msg := c.ReadSkippingPings(); msg != `435["ok"]` {
		t.Fatalf("got %q", msg)
	}
}

// An acknowledgement with more binary values than the official client
// accepts (10: its parser refuses the packet and closes the connection) is
// refused like such an Emit, and may be retried.
func TestAckWithTooManyBinaryValuesIsRefused(t *testing.T) {
	io := NewServer(quietOptions())
	errs := newEvents[error]()
	io.OnConnection(func(s *Socket) {
		s.On("q", func(s *Socket, e *Event) {
			many := make([]any, parser.DefaultMaxAttachments+1)
			for i := range many {
				many[i] = []byte{byte(i)}
			}
			errs.add(e.Ack(many...))
			errs.add(e.Ack("ok"))
		})
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	c.Text(`425["q"]`)
	if err := errs.next(t); err == nil || !strings.Contains(err.Error(), "at most 10") {
		t.Fatalf("Ack with 11 binary values returned %v", err)
	}
	if err := errs.next(t); err != nil {
		t.Fatalf("the retry returned %v", err)
	}
	if msg := c.ReadSkippingPings(); msg != `435["ok"]` {
		t.Fatalf("got %q", msg)
	}
}

// EmitWithAck with a context that has already ended sends nothing: nobody
// would be waiting for the answer.
func TestEmitWithAckOnAnEndedContextSendsNothing(t *testing.T) {
	io := NewServer(quietOptions())
	errs := newEvents[error]()
	io.OnConnection(func(s *Socket) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := s.EmitWithAck(ctx, "question")
		errs.add(err)
		_, err = io.Of("/").EmitWithAck(ctx, "poll")
		errs.add(err)
		_ = s.Emit("after")
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	for _, what := range []string{"socket", "broadcast"} {
		if err := errs.next(t); !errors.Is(err, ErrAckTimeout) || !errors.Is(err, context.Canceled) {
			t.Fatalf("%s EmitWithAck on a cancelled context: %v", what, err)
		}
	}
	if msg := c.ReadSkippingPings(); msg != `42["after"]` {
		t.Fatalf("got %q, want only the later emit", msg)
	}
}

// Events received before the client went away are handled, even when they
// wait behind a slow handler: in Node a received event is dispatched at
// once, so a client that emits and then closes its tab is heard. Their
// handlers run before the disconnect handlers.
func TestEventsReceivedBeforeTheClientLeftAreHandled(t *testing.T) {
	io := NewServer(quietOptions())
	started, release := make(chan struct{}), make(chan struct{})
	results := newEvents[string]()
	sockets := make(chan *Socket, 1)
	io.OnConnection(func(s *Socket) {
		sockets <- s
		s.On("slow", func(*Socket, *Event) {
			close(started)
			<-release
		})
		s.On("save", func(s *Socket, e *Event) {
			v, _ := e.Args.String(0)
			results.add("save " + v)
		})
		s.OnDisconnect(func(s *Socket, r DisconnectReason) { results.add("disconnect") })
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	s := <-sockets
	c.Text(`42["slow"]`)
	<-started
	c.Text(`42["save","draft"]`)
	time.Sleep(50 * time.Millisecond) // the reader has queued it
	c.Close()
	for deadline := time.Now().Add(5 * time.Second); s.Connected(); {
		if time.Now().After(deadline) {
			t.Fatal("the socket is still connected")
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if r := results.next(t); r != "save draft" {
		t.Fatalf("got %q, want the saved draft", r)
	}
	if r := results.next(t); r != "disconnect" {
		t.Fatalf("got %q", r)
	}
}

// A broadcast with acknowledgements stops waiting for a recipient that
// disconnects: with no deadline it would otherwise wait forever (Node's
// broadcast acks always end, at the latest with the operation's timeout).
func TestBroadcastWithAckEndsWhenTheMissingRecipientsDisconnect(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	a, _ := ts.connect(t, "/", "")
	b, _ := ts.connect(t, "/", "")
	done := make(chan []Args, 1)
	errc := make(chan error, 1)
	go func() {
		res, err := io.Of("/").EmitWithAck(context.Background(), "vote")
		done <- res
		errc <- err
	}()
	msg := a.ReadSkippingPings()
	a.Text("43" + msg[2:strings.IndexByte(msg, '[')] + `["yes"]`)
	b.ReadSkippingPings()
	b.Close() // never answers
	select {
	case res := <-done:
		err := <-errc
		if len(res) != 1 || !errors.Is(err, ErrDisconnected) || !errors.Is(err, ErrAckTimeout) {
			t.Fatalf("%d responses, err %v", len(res), err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the broadcast still waits for a client that is gone")
	}
}

// A client that has read its CONNECT reply is in every broadcast made after
// that (as in Node, where the socket joins before the reply is written).
func TestAConnectedClientGetsEveryLaterBroadcast(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	for i := range 200 {
		c, _ := ts.connect(t, "/", "")
		_ = io.Emit("hello", i)
		msg, _, err := c.TryRead(2 * time.Second)
		if want := fmt.Sprintf(`42["hello",%d]`, i); err != nil || msg != want {
			t.Fatalf("client %d: got %q %v, want %s", i, msg, err, want)
		}
		c.Close()
	}
}

// redAndBlue starts a server with three connected sockets: a in room
// "red", b in "red" and "blue", c in "blue".
func redAndBlue(t *testing.T) (io *Server, a, b, c *testclient.Conn, sa, sb, sc *Socket) {
	t.Helper()
	io = NewServer(quietOptions())
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { sockets.add(s) })
	ts := start(t, io)
	a, _ = ts.connect(t, "/", "")
	sa = sockets.next(t)
	b, _ = ts.connect(t, "/", "")
	sb = sockets.next(t)
	c, _ = ts.connect(t, "/", "")
	sc = sockets.next(t)
	sa.Join("red")
	sb.Join("red", "blue")
	sc.Join("blue")
	return io, a, b, c, sa, sb, sc
}
