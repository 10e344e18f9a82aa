package interop

import (
	"fmt"
	"testing"

	"switchboard/socketio"
)

// One broadcast reaches many real clients, on both transports, each
// exactly once and in order, binary attachments included.
func TestBroadcastToManyClients(t *testing.T) {
	t.Parallel()
	const clients, messages = 40, 20
	srv, reg := echoServer(t, nil, nil)
	n := startNode(t, "client.mjs")
	connectAlternating(t, n, srv.URL, reg, "c", clients)
	for m := range messages {
		var err error
		if m%4 == 0 {
			err = srv.Emit("news", m, []byte{byte(m), 1, 2})
		} else {
			err = srv.Emit("news", m)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.To("thirds").Emit("news", -m); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Emit("end"); err != nil {
		t.Fatal(err)
	}
	for i := range clients {
		name := fmt.Sprint("c", i)
		var want []any
		for m := range messages {
			if m%4 == 0 {
				want = append(want, []any{m, []byte{byte(m), 1, 2}})
			} else {
				want = append(want, []any{m})
			}
			if i%3 == 0 {
				want = append(want, []any{-m})
			}
		}
		got := n.eventsUntil(t, name, "end")
		if len(got) != len(want) {
			t.Fatalf("%s received %d events, want %d", name, len(got), len(want))
		}
		for k, r := range got {
			sameArgs(t, r, want[k].([]any)...)
		}
	}
}

// EmitMany reaches real clients, on both transports, with its events in
// order (binary attachments included), as Node's emits in a row would;
// rooms and exceptions select as for Emit.
func TestEmitManyReachesClientsInOrder(t *testing.T) {
	t.Parallel()
	const clients, batches = 6, 10
	srv, reg := echoServer(t, nil, nil)
	n := startNode(t, "client.mjs")
	connectAlternating(t, n, srv.URL, reg, "m", clients)
	m3 := reg.get(t, "m3").ID() // in thirds, but left out
	for b := range batches {
		err := srv.EmitMany(
			socketio.Message{Event: "news", Args: []any{b, "first"}},
			socketio.Message{Event: "news", Args: []any{b, []byte{byte(b), 7}}},
			socketio.Message{Event: "news", Args: []any{b, "last"}},
		)
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.To("thirds").Except(m3).EmitMany(socketio.Message{Event: "news", Args: []any{-b, "thirds"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := srv.Emit("end"); err != nil {
		t.Fatal(err)
	}
	for i := range clients {
		name := fmt.Sprint("m", i)
		var want [][]any
		for b := range batches {
			want = append(want, []any{b, "first"}, []any{b, []byte{byte(b), 7}}, []any{b, "last"})
			if i == 0 {
				want = append(want, []any{-b, "thirds"})
			}
		}
		got := n.eventsUntil(t, name, "end")
		if len(got) != len(want) {
			t.Fatalf("%s received %d events, want %d", name, len(got), len(want))
		}
		for k, r := range got {
			sameArgs(t, r, want[k]...)
		}
	}
}

// connectAlternating connects count clients named prefix0, prefix1, … —
// polling and WebSocket in turn — waits for their welcome, and puts every
// third in the room "thirds".
func connectAlternating(t *testing.T, n *node, url string, reg *sockets, prefix string, count int) {
	t.Helper()
	for i := range count {
		name := fmt.Sprint(prefix, i)
		opts := auth(name, nil)
		if i%2 == 0 {
			opts["transports"] = []string{"polling"}
		} else {
			opts["transports"] = []string{"websocket"}
		}
		n.connect(t, name, url, clientOpts{Opts: opts})
	}
	for i := range count {
		name := fmt.Sprint(prefix, i)
		n.want(t, "connect", name)
		n.event(t, name, "welcome")
		if i%3 == 0 {
			reg.get(t, name).Join("thirds")
		}
	}
}
