package socketio

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitDone returns the cause of ctx once it is done, failing the test if
// it is not done within 5 s.
func waitDone(t *testing.T, ctx context.Context) error {
	t.Helper()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(5 * time.Second):
		t.Fatal("the context is not done")
		return nil
	}
}

// wantDisconnect checks that cause says the socket disconnected, for reason.
func wantDisconnect(t *testing.T, cause error, reason DisconnectReason) {
	t.Helper()
	var de *DisconnectError
	if !errors.Is(cause, ErrDisconnected) || !errors.As(cause, &de) || de.Reason != reason {
		t.Fatalf("cause %v, want a *DisconnectError for %q that is ErrDisconnected", cause, reason)
	}
}

// A connection middleware doing slow I/O (a database lookup) gets a ctx
// that ends when the client goes away, so the lookup stops instead of
// running on for nobody; the socket never connects.
func TestMiddlewareContextEndsWhenTheClientLeaves(t *testing.T) {
	io := NewServer(quietOptions())
	entered := make(chan struct{})
	causes := newEvents[error]()
	io.Use(func(ctx context.Context, s *Socket) error {
		if ctx != s.Context() {
			t.Error("the middleware's ctx is not the socket's Context")
		}
		close(entered)
		causes.add(waitDone(t, ctx))
		return ctx.Err()
	})
	connected := make(chan struct{}, 1)
	io.OnConnection(func(*Socket) { connected <- struct{}{} })
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	c.Text(`40`)
	<-entered
	c.Close()
	wantDisconnect(t, causes.next(t), ReasonTransportClose)
	select {
	case <-connected:
		t.Fatal("a socket whose client left during the middleware connected")
	case <-time.After(50 * time.Millisecond):
	}
}

// Server.Close ends the ctx of a middleware still running, so shutting down
// does not wait for (or time out on) a lookup whose client is gone.
func TestMiddlewareContextEndsWhenTheServerCloses(t *testing.T) {
	io := NewServer(quietOptions())
	entered := make(chan struct{})
	causes := newEvents[error]()
	io.Use(func(ctx context.Context, s *Socket) error {
		close(entered)
		causes.add(waitDone(t, ctx))
		return ctx.Err()
	})
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	c.Text(`40`)
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := io.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantDisconnect(t, causes.next(t), ReasonServerShuttingDown)
}

// A socket's Context ends as soon as it disconnects — before the disconnect
// handlers run, so a handler blocked on I/O for it is released first — and
// tells why. Asked for after the disconnection, it is already done.
func TestSocketContextEndsWhenItDisconnects(t *testing.T) {
	io := NewServer(quietOptions())
	order := newEvents[string]()
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) {
		sockets.add(s)
		s.On("slow", func(s *Socket, e *Event) {
			ctx := s.Context()
			if s.Context() != ctx {
				t.Error("Context returned another context on a second call")
			}
			order.add("slow started")
			wantDisconnect(t, waitDone(t, ctx), ReasonClientNamespaceDisconnect)
			order.add("slow released")
		})
		s.On("disconnect", func(s *Socket, e *Event) {
			wantDisconnect(t, waitDone(t, s.Context()), ReasonClientNamespaceDisconnect)
			order.add("disconnect")
		})
	})
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	s := sockets.next(t)
	if err := s.Context().Err(); err != nil {
		t.Fatalf("a connected socket's Context is done: %v", err)
	}
	c.Text(`42["slow"]`)
	if got := order.next(t); got != "slow started" {
		t.Fatalf("got %q", got)
	}
	c.Text(`41`)
	for _, want := range []string{"slow released", "disconnect"} {
		if got := order.next(t); got != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	}
}

// Each way a socket ends carries its own reason: the server's Disconnect,
// a lost connection, and a Context first asked for long after the end.
func TestSocketContextCarriesTheDisconnectReason(t *testing.T) {
	io := NewServer(quietOptions())
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { sockets.add(s) })
	ts := start(t, io)

	_, _ = ts.connect(t, "/", "")
	kicked := sockets.next(t)
	ctx := kicked.Context()
	kicked.Disconnect(false)
	wantDisconnect(t, waitDone(t, ctx), ReasonServerNamespaceDisconnect)

	lost, _ := ts.connect(t, "/", "")
	gone := sockets.next(t)
	lost.Close()
	deadline := time.Now().Add(5 * time.Second)
	for gone.Connected() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	// First asked for now: already done.
	if gone.Context().Err() == nil {
		t.Fatal("the Context of a disconnected socket is not done")
	}
	wantDisconnect(t, context.Cause(gone.Context()), ReasonTransportClose)
}

// A socket refused by a middleware ends with the refusal as its cause; a
// goroutine the middleware started with its ctx stops.
func TestRefusedSocketContextEnds(t *testing.T) {
	io := NewServer(quietOptions())
	refusal := errors.New("no entry")
	ctxs := newEvents[context.Context]()
	io.Use(func(ctx context.Context, s *Socket) error {
		ctxs.add(ctx)
		return refusal
	})
	ts := start(t, io)
	c := ts.ws(t)
	c.ReadText()
	c.Text(`40`)
	if msg := c.ReadText(); msg != `44{"message":"no entry"}` {
		t.Fatalf("got %q", msg)
	}
	cause := waitDone(t, ctxs.next(t))
	if !errors.Is(cause, ErrDisconnected) || !errors.Is(cause, refusal) {
		t.Fatalf("cause %v, want ErrDisconnected and the refusal", cause)
	}
}
