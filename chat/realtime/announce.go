package realtime

import (
	"errors"

	"switchboard/socketio"
)

// Presence announcements are combined: when many users join or leave at
// once (a restart, every client reconnecting within seconds), each
// announcing to everyone would cost one broadcast per event, N² sends of
// their own. Instead the announcements queue in change order and whoever's
// turn it is sends all those pending (up to maxBatch) with one
// socketio EmitMany: one selection of recipients, and one write per
// recipient for the whole batch.

// maxBatch bounds the announcements sent in one EmitMany, and so the
// memory a batch holds.
const maxBatch = 256

// audience is who hears an announcement: every socket (everyone), the
// sockets of a room, or one socket.
type audience struct {
	room   string
	socket *socketio.Socket
}

var everyone = audience{}

func inRoom(room string) audience                 { return audience{room: room} }
func onlySocket(socket *socketio.Socket) audience { return audience{socket: socket} }

// announcement is the events of one presence change for its audience.
type announcement struct {
	to   audience
	msgs []socketio.Message
	// turn receives true when the owner is to send the pending
	// announcements, and is closed once this one has been sent by another.
	turn chan bool
}

// Emit adds an event to the announcement (it is sent by Server.announced).
func (a *announcement) Emit(event string, args ...any) {
	a.msgs = append(a.msgs, socketio.Message{Event: event, Args: args})
}

// announce queues the events that fn emits on its argument, for the
// audience. It must be called with announceMu held, in the same step as
// the change announced: the announcements go out in the order of the
// changes. The caller then waits with announced, without the lock.
func (rt *Server) announce(to audience, fn func(*announcement)) *announcement {
	a := &announcement{to: to, turn: make(chan bool, 1)}
	fn(a)
	rt.pending = append(rt.pending, a)
	if !rt.announcing { // nobody is sending: a is the only one pending
		rt.announcing = true
		a.turn <- true
	}
	return a
}

// announced returns once a has been sent. When it is a's turn, it sends
// the oldest pending announcements — a first — in one batch, then hands
// the turn to the owner of the next one pending, if any: every waiter
// sends at most one batch, and nobody stays the announcer for a whole
// storm.
func (rt *Server) announced(a *announcement) {
	if !<-a.turn {
		return // sent in another's batch
	}
	rt.announceMu.Lock()
	n := 1
	for n < len(rt.pending) && n < maxBatch && rt.pending[n].to == a.to {
		n++
	}
	batch := rt.pending[:n:n]
	rt.pending = rt.pending[n:]
	rt.announceMu.Unlock()

	defer rt.passTurn(batch) // even if sending panics: the others must not wait forever
	rt.send(a.to, batch)
}

// passTurn releases the owners of a batch's other announcements (it was
// sent) and gives the turn to the owner of the next pending, if any.
func (rt *Server) passTurn(batch []*announcement) {
	for _, b := range batch[1:] {
		close(b.turn)
	}
	rt.announceMu.Lock()
	defer rt.announceMu.Unlock()
	if len(rt.pending) > 0 {
		rt.pending[0].turn <- true
	} else {
		rt.announcing = false
		rt.pending = nil
	}
}

// send sends the events of a batch, in order, to its audience.
func (rt *Server) send(to audience, batch []*announcement) {
	msgs := make([]socketio.Message, 0, 2*len(batch))
	for _, a := range batch {
		msgs = append(msgs, a.msgs...)
	}
	var err error
	switch {
	case to.socket != nil:
		for _, m := range msgs {
			if err = to.socket.Emit(m.Event, m.Args...); err != nil {
				break
			}
		}
		if errors.Is(err, socketio.ErrDisconnected) {
			err = nil // the tab left meanwhile: nobody to tell
		}
	case to.room != "":
		err = rt.io.To(to.room).EmitMany(msgs...)
	default:
		err = rt.io.EmitMany(msgs...)
	}
	if err != nil && !errors.Is(err, socketio.ErrServerClosed) {
		rt.log.Error("realtime: announcing presence", "err", err)
	}
}
