package interop

import (
	"slices"
	"testing"

	"switchboard/socketio"
)

// Rooms joined and left on the server select exactly the right real
// clients for To, In, Except, socket.Broadcast and a socket's own room.
func TestRooms(t *testing.T) {
	t.Parallel()
	srv, reg := echoServer(t, nil, nil)
	srv.On("join", func(s *socketio.Socket, e *socketio.Event) {
		room, err := e.Args.String(0)
		if err == nil {
			s.Join(room)
		}
		_ = e.Ack(s.Rooms())
	})
	srv.On("leave", func(s *socketio.Socket, e *socketio.Event) {
		room, _ := e.Args.String(0)
		s.Leave(room)
		_ = e.Ack(s.Rooms())
	})
	srv.On("tell room", func(s *socketio.Socket, e *socketio.Event) { // the sender is left out
		room, _ := e.Args.String(0)
		_ = s.To(room).Emit("room message", clientName(s), room)
		_ = e.Ack()
	})

	n := startNode(t, "client.mjs")
	names := []string{"a", "b", "c", "d"}
	for i, c := range names {
		opts := auth(c, nil)
		if i%2 == 1 {
			opts["transports"] = []string{"polling"} // mixed transports in the same rooms
		}
		n.connected(t, c, srv.URL, clientOpts{Opts: opts})
		n.event(t, c, "welcome")
	}
	a, b, c := reg.get(t, "a"), reg.get(t, "b"), reg.get(t, "c")

	// a: red (joined by the server); b: red, blue (asked by the client);
	// c: blue; d: nothing.
	a.Join("red")
	for _, room := range []string{"red", "blue"} {
		seq := n.emitAck(t, "b", 0, "join", room)
		reg.event(t, "b", "join")
		n.ackOf(t, "b", seq)
	}
	seq := n.emitAck(t, "c", 0, "join", "blue")
	reg.event(t, "c", "join")
	if rooms := n.ackOf(t, "c", seq).arg(t, 0).([]any); len(rooms) != 2 || rooms[0] != c.ID() || rooms[1] != "blue" {
		t.Errorf("rooms of c: %v", rooms)
	}

	emit := func(op socketio.BroadcastOperator, what string) {
		t.Helper()
		if err := op.Emit("msg", what); err != nil {
			t.Fatal(err)
		}
	}
	emit(srv.To("red"), "to red")
	emit(srv.In("red", "blue"), "to red and blue (once each)")
	emit(srv.To("red").Except("blue"), "red except blue")
	emit(srv.Except("red"), "all except red")
	emit(b.To("blue"), "b to blue")
	emit(b.Broadcast(), "b broadcast")
	emit(b.Except("blue"), "b except blue")
	emit(srv.To(c.ID()), "c's own room")
	emit(srv.Of("/").To("red", c.ID()), "red and c")
	b.Leave("red")
	emit(srv.To("red"), "red after b left")
	seq = n.emitAck(t, "b", 0, "leave", "blue")
	reg.event(t, "b", "leave")
	if rooms := n.ackOf(t, "b", seq).arg(t, 0).([]any); len(rooms) != 1 || rooms[0] != b.ID() {
		t.Errorf("rooms of b after leaving all: %v", rooms)
	}
	emit(srv.To("blue"), "blue after b left")
	seq = n.emitAck(t, "a", 0, "tell room", "red") // a alone in red now: nobody
	n.ackOf(t, "a", seq)
	reg.event(t, "a", "tell room")
	seq = n.emitAck(t, "d", 0, "tell room", "blue") // d is not in blue, c is
	n.ackOf(t, "d", seq)
	reg.event(t, "d", "tell room")
	seq = n.emitAck(t, "c", 0, "tell room", "blue") // c is the only one in blue: nobody
	n.ackOf(t, "c", seq)
	reg.event(t, "c", "tell room")
	if err := srv.Of("/").Local().Emit("end"); err != nil { // every client, last
		t.Fatal(err)
	}

	want := map[string][]string{
		"a": {"to red", "to red and blue (once each)", "red except blue", "b broadcast", "b except blue", "red and c", "red after b left"},
		"b": {"to red", "to red and blue (once each)", "red and c"},
		"c": {"to red and blue (once each)", "all except red", "b to blue", "b broadcast", "c's own room", "red and c", "blue after b left", "room message d blue"},
		"d": {"all except red", "b broadcast", "b except blue"},
	}
	for _, name := range names {
		var got []string
		for _, r := range n.eventsUntil(t, name, "end") {
			if r.Event == "msg" {
				got = append(got, r.arg(t, 0).(string))
			} else if r.Event == "room message" {
				got = append(got, "room message "+r.arg(t, 0).(string)+" "+r.arg(t, 1).(string))
			} else {
				got = append(got, "unexpected event "+r.Event)
			}
		}
		// broadcasts from one goroutine reach each client in order
		if !slices.Equal(got, want[name]) {
			t.Errorf("client %s received\n%q\nwant\n%q", name, got, want[name])
		}
	}
}
