package socketio

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"switchboard/socketio/adapter"
)

// A second Close (a deferred one, or a signal handler's, with a longer
// deadline) waits for the shutdown the first one started, as
// http.Server.Shutdown does, instead of reporting a clean close at once
// while disconnect handlers still run.
func TestASecondCloseWaitsForTheShutdown(t *testing.T) {
	io := NewServer(quietOptions())
	release := make(chan struct{})
	inHandler := make(chan struct{})
	io.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(*Socket, DisconnectReason) {
			close(inHandler)
			<-release
		})
	})
	ts := start(t, io)
	ts.connect(t, "/", "")

	first := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		first <- io.Close(ctx)
	}()
	<-inHandler
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := io.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a second Close during the shutdown returned %v, want it to wait (and here time out)", err)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatalf("first Close: %v", err)
	}
	if err := io.Close(context.Background()); err != nil {
		t.Fatalf("Close after the shutdown: %v", err)
	}
}

// Once Close has returned, operations that would reach sockets say so with
// ErrServerClosed instead of silently reaching nobody (a ticker's goroutine
// can stop on it); during the shutdown, disconnect handlers still broadcast
// to whoever remains (in a cluster, the sockets of other nodes).
func TestOperationsAfterCloseReturnErrServerClosed(t *testing.T) {
	io := NewServer(quietOptions())
	duringClose := newEvents[error]()
	io.OnConnection(func(s *Socket) {
		s.OnDisconnect(func(*Socket, DisconnectReason) {
			duringClose.add(io.Emit("user left", s.ID()))
		})
	})
	ts := start(t, io)
	ts.connect(t, "/", "")
	if err := io.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := duringClose.next(t); err != nil {
		t.Fatalf("an Emit in a disconnect handler during Close: %v", err)
	}
	ctx := context.Background()
	for name, op := range map[string]func() error{
		"Emit":              func() error { return io.Emit("tick") },
		"To.Emit":           func() error { return io.To("room").Emit("tick") },
		"Of.Emit":           func() error { return io.Of("/other").Emit("tick") },
		"EmitWithAck":       func() error { _, err := io.Timeout(time.Second).EmitWithAck(ctx, "tick"); return err },
		"FetchSockets":      func() error { _, err := io.FetchSockets(ctx); return err },
		"SocketsJoin":       func() error { return io.SocketsJoin("room") },
		"SocketsLeave":      func() error { return io.SocketsLeave("room") },
		"DisconnectSockets": func() error { return io.DisconnectSockets(true) },
		"ServerSideEmit":    func() error { return io.ServerSideEmit(ctx, "hello") },
	} {
		if err := op(); !errors.Is(err, ErrServerClosed) {
			t.Errorf("%s after Close: %v, want ErrServerClosed", name, err)
		}
	}
}

// The methods adapters use to reach local sockets (adapter.Namespace) are
// not the application's: the public Namespace does not carry them, and
// its adapter gets a view that does.
func TestNamespaceAPIKeepsAdapterMethodsOut(t *testing.T) {
	nt := reflect.TypeOf(&Namespace{})
	for _, name := range []string{"Deliver", "DeliverWithAck", "Disconnect", "SocketInfo", "NextAckID"} {
		if _, ok := nt.MethodByName(name); ok {
			t.Errorf("Namespace.%s is exported: it is for adapters", name)
		}
	}
	var got adapter.Namespace
	io := NewServer(&Options{Adapter: func(nsp adapter.Namespace) adapter.Adapter {
		got = nsp
		return adapter.NewInMemory(nsp)
	}})
	defer io.Close(context.Background())
	if got == nil || got.Name() != "/" {
		t.Fatalf("the adapter of / was given %v", got)
	}
}

// A client closed for its own fault (a malformed packet, a packet out of
// place, no CONNECT in time) is closed gracefully, as Node closes it: a
// polling client's next poll gets what was queued, then the close packet,
// not an unknown session; its socket hears the reason.
func TestMisbehavingPollingClientGetsTheClosePacket(t *testing.T) {
	for _, c := range []struct {
		name, post string
		connect    bool
		reason     DisconnectReason
	}{
		{name: "malformed packet", connect: true, post: `42{}`, reason: ReasonParseError},
		{name: "packet out of place", connect: true, post: `44{"message":"x"}`, reason: ReasonForcedServerClose},
		{name: "event before CONNECT", post: `42["e"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			io := NewServer(suiteOptions())
			reasons := make(chan DisconnectReason, 1)
			io.OnConnection(func(s *Socket) {
				s.OnDisconnect(func(_ *Socket, r DisconnectReason) { reasons <- r })
			})
			ts := start(t, io)
			code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
			if code != 200 {
				t.Fatalf("handshake %d %s", code, body)
			}
			sid := body[strings.Index(body, `"sid":"`)+7:][:20]
			poll := ts.url("EIO=4&transport=polling&sid=" + sid)
			if c.connect {
				do(t, "POST", poll, "40")
				if _, body, _ := do(t, "GET", poll, ""); !strings.HasPrefix(body, "40{") {
					t.Fatalf("CONNECT answered %q", body)
				}
			}
			if code, body, _ := do(t, "POST", poll, c.post); code != 200 {
				t.Fatalf("POST %s: %d %s", c.post, code, body)
			}
			if code, body, _ := do(t, "GET", poll, ""); code != 200 || body != "1" {
				t.Fatalf("next poll: %d %q, want 200 \"1\" (the close packet)", code, body)
			}
			if code, body, _ := do(t, "GET", poll, ""); code != 400 || !strings.Contains(body, "Session ID unknown") {
				t.Fatalf("poll after the close: %d %q", code, body)
			}
			if c.connect {
				select {
				case r := <-reasons:
					if r != c.reason {
						t.Fatalf("disconnect reason %q, want %q", r, c.reason)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no disconnect")
				}
			}
		})
	}
}
