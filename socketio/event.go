package socketio

import (
	"sync/atomic"

	"switchboard/socketio/parser"
)

// EventHandler handles an event (Node's socket.on(event, listener)). It
// runs on the client's handler goroutine (see the package doc): it may
// block, but the client's next events wait for it. The pseudo-events
// "disconnecting" and "disconnect" are delivered to handlers registered
// under those names too, with Event.Reason set.
type EventHandler func(s *Socket, e *Event)

// Event is an event received from a client: its name, its arguments and,
// when the client asked for one, the means to acknowledge it (Ack). It may
// be kept after the handler returns, to acknowledge later.
type Event struct {
	// Name is the event name (a numeric name arrives as its decimal text).
	Name string
	// Args are the event's arguments.
	Args Args
	// Reason is set for the "disconnecting" and "disconnect" pseudo-events.
	Reason DisconnectReason

	ack *ack
}

type ack struct {
	s    *Socket
	id   int64
	sent atomic.Bool
}

// HasAck reports whether the client asked for an acknowledgement (emitted
// with a callback, or with emitWithAck).
func (e *Event) HasAck() bool { return e.ack != nil }

// Ack acknowledges the event with args, which the client's callback (or
// emitWithAck's promise) receives; it is Node's callback(...args). args are
// encoded as by Socket.Emit ([]byte as binary). It may be called later,
// from any goroutine, at most once: it returns ErrAckSent after the first
// call that sent it (a call whose arguments cannot be encoded, or hold
// more than 10 binary values, returns that error and sends nothing),
// ErrDisconnected once the connection is
// closed, and nil, sending nothing, when no acknowledgement was asked for.
// It never blocks on the network.
func (e *Event) Ack(args ...any) error {
	if e.ack == nil {
		return nil
	}
	// Encoded first: arguments that cannot be encoded leave the ack unsent,
	// and callable again (as in Node).
	data, atts, err := ackData(args)
	if err == nil {
		err = checkAttachments(atts)
	}
	if err != nil {
		return err
	}
	if !e.ack.sent.CompareAndSwap(false, true) {
		return ErrAckSent
	}
	s := e.ack.s
	p := newPacket(parser.Ack, s.nsp.name, data, atts)
	p.ID, p.HasID = e.ack.id, true
	return s.client.send(p, 0)
}
