package interop

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"switchboard/socketio"
)

// ackServer adds acknowledging handlers to the echo server: "sum" answers
// with the sum, a Buffer and an object; "later" answers from another
// goroutine 100 ms later; "never" asks for nothing back and never answers.
func ackServer(t *testing.T, opts *socketio.Options) (*server, *sockets) {
	t.Helper()
	srv, reg := echoServer(t, opts, nil)
	srv.On("sum", func(s *socketio.Socket, e *socketio.Event) {
		var nums []float64
		if err := e.Args.Decode(0, &nums); err != nil {
			_ = e.Ack(map[string]string{"error": err.Error()})
			return
		}
		var sum float64
		for _, x := range nums {
			sum += x
		}
		_ = e.Ack(sum, []byte("sum ✓"), map[string]any{"count": len(nums)})
	})
	srv.On("later", func(s *socketio.Socket, e *socketio.Event) {
		time.AfterFunc(100*time.Millisecond, func() { _ = e.Ack("late answer", []byte{1, 2, 3}) })
	})
	srv.On("never", func(s *socketio.Socket, e *socketio.Event) {})
	srv.On("file", func(s *socketio.Socket, e *socketio.Event) {
		type chunk struct { // a []byte field travels as a Buffer, as Node sends it
			Name string `json:"name"`
			Data []byte `json:"data"`
		}
		_ = e.Ack(chunk{Name: "a.bin", Data: []byte{0, 1, 254, 255}})
	})
	return srv, reg
}

// The client emits with a callback; the Go handler answers with Event.Ack,
// binary arguments included, right away or later from another goroutine.
func TestClientEmitWithAck(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := ackServer(t, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{transport}})})

			seq := n.emitAck(t, "a", 0, "sum", []any{1, 2, 39.5})
			if got := reg.event(t, "a", "sum"); !got.Event.HasAck() {
				t.Error("Go handler: HasAck is false for an emit with a callback")
			}
			ack := n.ackOf(t, "a", seq)
			sameArgs(t, ack, 42.5, []byte("sum ✓"), map[string]any{"count": 3})
			if typ := binType(ack.arg(t, 1)); typ != "Buffer" {
				t.Errorf("binary ack argument arrived as %s, want Buffer", typ)
			}

			seq = n.emitAck(t, "a", 0, "later")
			reg.event(t, "a", "later")
			sameArgs(t, n.ackOf(t, "a", seq), "late answer", []byte{1, 2, 3})

			// binary arguments in the event, echoed in the ack
			seq = n.emitAck(t, "a", 0, "echo", []byte{0, 1, 2, 255}, "text", largeBinary(100_000))
			got := reg.event(t, "a", "echo")
			if b, err := got.Event.Args.Bytes(2); err != nil || !bytes.Equal(b, largeBinary(100_000)) {
				t.Errorf("Go got %d bytes (%v)", len(b), err)
			}
			sameArgs(t, n.ackOf(t, "a", seq), []byte{0, 1, 2, 255}, "text", largeBinary(100_000))
			sameArgs(t, n.event(t, "a", "echo"), []byte{0, 1, 2, 255}, "text", largeBinary(100_000))

			// a struct with a []byte field
			seq = n.emitAck(t, "a", 0, "file")
			reg.event(t, "a", "file")
			ack = n.ackOf(t, "a", seq)
			file, _ := ack.arg(t, 0).(map[string]any)
			if typ := binType(file["data"]); typ != "Buffer" || !bytes.Equal(binBytes(t, file["data"]), []byte{0, 1, 254, 255}) || file["name"] != "a.bin" {
				t.Errorf("struct with a []byte arrived as %v", ack.arg(t, 0))
			}

			// concurrent acks resolve to their own callbacks
			var seqs []int
			for i := range 20 {
				seqs = append(seqs, n.emitAck(t, "a", 0, "sum", []any{i, 1000}))
			}
			for i, seq := range seqs {
				reg.event(t, "a", "sum")
				sameArgs(t, n.ackOf(t, "a", seq), float64(i+1000), []byte("sum ✓"), map[string]any{"count": 2})
			}

			// a handler that never answers: socket.timeout(ms).emit fails on the client
			seq = n.emitAck(t, "a", 300*time.Millisecond, "never", "hello?")
			if got := reg.event(t, "a", "never"); !got.Event.HasAck() {
				t.Error("Go handler: HasAck is false for socket.timeout().emit")
			}
			if ack := n.ackOf(t, "a", seq); ack.Error == nil || *ack.Error != "operation has timed out" {
				t.Fatalf("client: %s, want the timeout error", ack)
			}
			n.emit(t, "a", "echo", "still there")
			reg.event(t, "a", "echo")
			sameArgs(t, n.event(t, "a", "echo"), "still there")
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
		})
	}
}

// Go emits with Socket.EmitWithAck; the client's callback answers, with a
// Buffer too. A client that never answers makes EmitWithAck fail with
// ErrAckTimeout, a late answer is ignored, and the socket stays connected.
func TestServerEmitWithAck(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, nil, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{
				Opts: auth("a", map[string]any{"transports": []string{transport}}),
				Replies: map[string]reply{
					"question": {Args: []any{"answer ✓", []byte("binary answer"), map[string]any{"n": 1, "list": []any{true, nil}}}},
					"echo":     {Echo: true},
					"slow":     {Args: []any{"too late"}, Delay: 700},
				},
			})
			s := reg.get(t, "a")
			emitWithAck := func(d time.Duration, event string, args ...any) (socketio.Args, error) {
				ctx, cancel := context.WithTimeout(context.Background(), d)
				defer cancel()
				return s.EmitWithAck(ctx, event, args...)
			}

			answer, err := emitWithAck(waitTimeout, "question", "are you there?", []byte{7, 8})
			if err != nil {
				t.Fatal(err)
			}
			ev := n.event(t, "a", "question")
			sameArgs(t, ev, "are you there?", []byte{7, 8})
			if !ev.Ack {
				t.Error("the client saw no ack callback")
			}
			if str, err := answer.String(0); err != nil || str != "answer ✓" {
				t.Errorf("answer 0: %q, %v", str, err)
			}
			if b, err := answer.Bytes(1); err != nil || string(b) != "binary answer" {
				t.Errorf("answer 1: %q, %v", b, err)
			}
			var obj struct {
				N    int   `json:"n"`
				List []any `json:"list"`
			}
			if err := answer.Decode(2, &obj); err != nil || obj.N != 1 || len(obj.List) != 2 {
				t.Errorf("answer 2: %+v, %v", obj, err)
			}

			big := largeBinary(200_000)
			answer, err = emitWithAck(waitTimeout, "echo", big, "and text", []byte{})
			if err != nil {
				t.Fatal(err)
			}
			n.event(t, "a", "echo")
			if b, err := answer.Bytes(0); err != nil || !bytes.Equal(b, big) {
				t.Errorf("echoed binary: %d bytes, %v", len(b), err)
			}
			if b, err := answer.Bytes(2); err != nil || len(b) != 0 {
				t.Errorf("echoed empty binary: %q, %v", b, err)
			}

			// no answer at all
			start := time.Now()
			_, err = emitWithAck(300*time.Millisecond, "ignored", "hello?")
			if !errors.Is(err, socketio.ErrAckTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("EmitWithAck to a silent client: %v, want ErrAckTimeout", err)
			}
			if d := time.Since(start); d < 250*time.Millisecond {
				t.Errorf("timed out after %v", d)
			}
			if ev := n.event(t, "a", "ignored"); !ev.Ack {
				t.Error("the client saw no ack callback")
			}

			// an answer after the deadline is dropped; ack ids stay apart
			if _, err = emitWithAck(200*time.Millisecond, "slow"); !errors.Is(err, socketio.ErrAckTimeout) {
				t.Fatalf("EmitWithAck(slow): %v, want ErrAckTimeout", err)
			}
			n.event(t, "a", "slow")
			time.Sleep(700 * time.Millisecond) // the late answer arrives
			answer, err = emitWithAck(waitTimeout, "question", "still there?")
			if err != nil {
				t.Fatal(err)
			}
			if str, _ := answer.String(0); str != "answer ✓" {
				t.Errorf("after a late answer, got %q", str)
			}
			if !s.Connected() {
				t.Error("the socket was disconnected")
			}
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
			reg.gone.none(t, 0, "disconnection")
		})
	}
}

// Broadcast acknowledgements (io.Timeout(d).EmitWithAck) collect one answer
// per recipient from several real clients; a silent one makes the call
// return the others' answers with ErrAckTimeout.
func TestBroadcastEmitWithAck(t *testing.T) {
	t.Parallel()
	srv, reg := echoServer(t, nil, nil)
	n := startNode(t, "client.mjs")
	for _, c := range []string{"a", "b", "c"} {
		opts := auth(c, nil)
		if c == "b" {
			opts["transports"] = []string{"polling"}
		}
		n.connected(t, c, srv.URL, clientOpts{Opts: opts, Replies: map[string]reply{
			"poll": {Args: []any{c, []byte("vote of " + c)}},
		}})
	}
	n.connected(t, "silent", srv.URL, clientOpts{Opts: auth("silent", nil)})
	for _, c := range []string{"a", "b", "c", "silent"} {
		n.event(t, c, "welcome")
	}
	for _, c := range []string{"a", "b", "c"} {
		reg.get(t, c).Join("voters")
	}
	reg.get(t, "silent").Join("others")

	names := func(answers []socketio.Args) []string {
		var out []string
		for _, a := range answers {
			name, err := a.String(0)
			if err != nil {
				t.Fatalf("answer %v: %v", a, err)
			}
			if b, err := a.Bytes(1); err != nil || string(b) != "vote of "+name {
				t.Errorf("binary answer of %s: %q, %v", name, b, err)
			}
			out = append(out, name)
		}
		slices.Sort(out)
		return out
	}

	ctx := context.Background()
	answers, err := srv.To("voters").Timeout(waitTimeout).EmitWithAck(ctx, "poll", "room only", []byte{1})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(answers); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("answers from %v", got)
	}
	for _, c := range []string{"a", "b", "c"} {
		ev := n.event(t, c, "poll")
		sameArgs(t, ev, "room only", []byte{1})
		if !ev.Ack {
			t.Errorf("%s saw no ack callback", c)
		}
	}

	start := time.Now()
	answers, err = srv.Timeout(500*time.Millisecond).EmitWithAck(ctx, "poll", "everyone")
	if !errors.Is(err, socketio.ErrAckTimeout) {
		t.Fatalf("broadcast with a silent client: %v, want ErrAckTimeout", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("returned after %v, before the timeout", d)
	}
	if got := names(answers); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("answers from %v", got)
	}
	for _, c := range []string{"a", "b", "c", "silent"} {
		sameArgs(t, n.event(t, c, "poll"), "everyone")
	}

	// nobody selected: no answers, no error, at once
	answers, err = srv.To("nobody").Timeout(waitTimeout).EmitWithAck(ctx, "poll", "empty room")
	if err != nil || len(answers) != 0 {
		t.Fatalf("empty room: %v, %v", answers, err)
	}

	// socket.Broadcast() excludes the sender
	answers, err = reg.get(t, "a").Broadcast().To("voters").Timeout(waitTimeout).EmitWithAck(ctx, "poll", "not a")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(answers); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("answers from %v", got)
	}
	n.none(t, 200*time.Millisecond, "an event for a or silent", func(r *report) bool {
		return r.T == "event" && (r.C == "a" || r.C == "silent")
	})
	if !reg.get(t, "silent").Connected() {
		t.Error("the silent client was disconnected")
	}
	n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
}

// An EmitWithAck waiting for a client that leaves returns ErrDisconnected
// at once, not at its deadline.
func TestEmitWithAckEndsWhenTheClientLeaves(t *testing.T) {
	t.Parallel()
	srv, reg := echoServer(t, nil, nil)
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", nil)})
	s := reg.get(t, "a")
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 4*waitTimeout)
		defer cancel()
		_, err := s.EmitWithAck(ctx, "ignored")
		errc <- err
	}()
	n.event(t, "a", "ignored")
	start := time.Now()
	n.send(t, map[string]any{"op": "disconnect", "c": "a"})
	select {
	case err := <-errc:
		if !errors.Is(err, socketio.ErrDisconnected) {
			t.Errorf("EmitWithAck: %v, want ErrDisconnected", err)
		}
		if d := time.Since(start); d > waitTimeout/2 {
			t.Errorf("EmitWithAck returned %v after the disconnection", d)
		}
	case <-time.After(waitTimeout):
		t.Fatal("EmitWithAck still waits for a client that left")
	}
	reg.disconnected(t, "a", socketio.ReasonClientNamespaceDisconnect)
}

// With the client's retries option (at-least-once delivery) every emit asks
// for an acknowledgement and waits for it before the next one: a server
// that acknowledges gets each event exactly once, in order.
func TestClientRetriesOption(t *testing.T) {
	t.Parallel()
	srv, reg := echoServer(t, nil, nil)
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"retries": 3, "ackTimeout": 2000})})
	n.event(t, "a", "welcome")
	for i := range 10 {
		n.emit(t, "a", "echo", i)
	}
	for i := range 10 {
		got := reg.event(t, "a", "echo")
		if !got.Event.HasAck() {
			t.Errorf("event %d: the client asked for no acknowledgement", i)
		}
		var j int
		if err := got.Event.Args.Decode(0, &j); err != nil || j != i {
			t.Fatalf("event %d (%v) where %d was expected", j, err, i)
		}
		sameArgs(t, n.event(t, "a", "echo"), i)
	}
	reg.events.none(t, 2500*time.Millisecond, "event (a retry)")
}
