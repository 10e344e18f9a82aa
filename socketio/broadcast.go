package socketio

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"switchboard/socketio/adapter"
	"switchboard/socketio/parser"
)

// BroadcastOperator selects sockets of a namespace (rooms, exceptions,
// flags) for an emit or a bulk operation, as Node's BroadcastOperator
// (io.to(room), socket.broadcast…). Get one from a Server, Namespace or
// Socket (To, In, Except, Broadcast, Local, Volatile, Compress, Timeout);
// the zero value is not usable. It is a value: each method returns a
// modified copy, so operators can be kept, reused and shared between
// goroutines. The selection is made when the operation runs: sockets in
// any of the To rooms (every socket when there are none) and in none of
// the Except rooms.
type BroadcastOperator struct {
	nsp    *Namespace
	rooms  []string
	except []string
	flags  adapter.BroadcastFlags
}

// To adds rooms to the selection (sockets in any of them), as Node's to.
func (b BroadcastOperator) To(rooms ...string) BroadcastOperator {
	b.rooms = append(slices.Clip(b.rooms), rooms...)
	return b
}

// In is To (Node's in).
func (b BroadcastOperator) In(rooms ...string) BroadcastOperator { return b.To(rooms...) }

// Except excludes the sockets in rooms, even those also in a To room.
func (b BroadcastOperator) Except(rooms ...string) BroadcastOperator {
	b.except = append(slices.Clip(b.except), rooms...)
	return b
}

// Local restricts the operation to this node (Node's local); with the
// in-memory adapter it changes nothing.
func (b BroadcastOperator) Local() BroadcastOperator {
	b.flags.Local = true
	return b
}

// Volatile drops the event for clients that cannot take it right now
// (Node's volatile; see Socket.Volatile).
func (b BroadcastOperator) Volatile() BroadcastOperator {
	b.flags.Volatile = true
	return b
}

// Compress(false) sends the event without compression, as Node's
// compress(false): for data that does not compress, such as images. It
// matters only where compression is on: WebSocket messages under
// engineio.Options.PerMessageDeflate, long-polling responses (see
// engineio.Uncompressed).
func (b BroadcastOperator) Compress(compress bool) BroadcastOperator {
	b.flags.Uncompressed = !compress
	return b
}

// Timeout bounds EmitWithAck's wait for acknowledgements, as Node's
// timeout(ms); with a ctx deadline too, the earlier one counts.
func (b BroadcastOperator) Timeout(d time.Duration) BroadcastOperator {
	b.flags.Timeout = d
	return b
}

func (b BroadcastOperator) options() adapter.BroadcastOptions {
	return adapter.BroadcastOptions{Rooms: b.rooms, Except: b.except, Flags: b.flags}
}

// Emit sends an event to the selected sockets. Arguments are encoded as by
// Socket.Emit, once: the same bytes are queued for every recipient. Emit
// never waits for the network. Every socket whose client had received its
// CONNECT reply when Emit was called gets the event. It
// returns an error wrapping ErrReservedEvent, the encoding error,
// ErrServerClosed once Server.Close has returned (as do the other
// operations of a BroadcastOperator), or the adapter's (none with the
// in-memory adapter).
func (b BroadcastOperator) Emit(event string, args ...any) error {
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if err := b.nsp.srv.checkOpen(); err != nil {
		return err
	}
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return err
	}
	return b.nsp.adapter.Broadcast([]*parser.Packet{p}, b.options())
}

// Message is one event of EmitMany: its name and arguments, as given to
// Emit.
type Message struct {
	Event string
	Args  []any
}

// EmitMany sends several events, in order, to the selected sockets: Node's
// emits in a row to the same selection,
//
//	io.to("room").emit("a", 1); io.to("room").emit("b", 2)
//
// is b.To("room").EmitMany(Message{"a", []any{1}}, Message{"b", []any{2}}).
// It costs much less than as many Emits: the recipients are selected once,
// each event is encoded once, and a recipient's events are queued in one
// step, so that they are written together (usually with one system call).
// Every recipient gets all the events or none of them, with nothing in
// between: a socket connecting meanwhile gets all or none, a volatile
// broadcast drops all or none for a client. Every event is checked and
// encoded before anything is sent: an error wrapping ErrReservedEvent or the
// encoding error (naming the event) sends nothing. Other errors are those of
// Emit. With no msgs it sends nothing and returns nil (or ErrServerClosed).
// In a cluster the adapter publishes the events to the other nodes in the
// same order, one message each (see adapter.Adapter.Broadcast).
func (b BroadcastOperator) EmitMany(msgs ...Message) error {
	for _, m := range msgs {
		if isReserved(m.Event) {
			return fmt.Errorf("%w: %q", ErrReservedEvent, m.Event)
		}
	}
	if err := b.nsp.srv.checkOpen(); err != nil {
		return err
	}
	if len(msgs) == 0 {
		return nil
	}
	ps := make([]*parser.Packet, len(msgs))
	for i, m := range msgs {
		p, err := eventPacket(b.nsp.name, m.Event, m.Args)
		if err != nil {
			return fmt.Errorf("%w (event %q)", err, m.Event)
		}
		ps[i] = p
	}
	return b.nsp.adapter.Broadcast(ps, b.options())
}

// EmitWithAck sends an event to the selected sockets and waits for every
// recipient's acknowledgement (Node's timeout(ms).emitWithAck), until ctx
// ends or the operator's Timeout, or until every recipient still missing has
// disconnected. It returns the acknowledgements received, in the order they
// arrived (with no recipient: none, at once). When some are missing, it
// returns those received and an error wrapping ErrAckTimeout and either
// ctx.Err() (context.DeadlineExceeded for Timeout) or ErrDisconnected,
// when it stopped waiting because the missing recipients disconnected.
// Without Timeout or a ctx deadline it waits for every answer or
// disconnection. With ctx already ended it sends nothing and returns that
// error. Other errors are those of Emit, with nothing received.
//
// In a cluster (as Node's emitWithAck) it also waits until each of the
// Adapter.ServerCount servers, asked before sending (unless Local), has
// counted the sockets it reached; a server that never reports is waited
// for until ctx ends, and an error of ServerCount is returned (wrapped)
// with nothing sent.
func (b BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	if isReserved(event) {
		return nil, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if b.flags.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.flags.Timeout)
		defer cancel()
	} else if d, ok := ctx.Deadline(); ok {
		b.flags.Timeout = time.Until(d)
	}
	if err := b.nsp.srv.checkOpen(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil { // nobody would wait for the answers
		return nil, fmt.Errorf("%w: %q: %w", ErrAckTimeout, event, err)
	}
	p, err := eventPacket(b.nsp.name, event, args)
	if err != nil {
		return nil, err
	}
	// No ack id yet: each node's adapter gives p one of its namespace's.

	// Every node reports how many of its sockets p reached (Node's
	// expectedServerCount): asked before sending, so that a node joining
	// meanwhile, which would not get p, is not waited for.
	servers := 1
	if !b.flags.Local {
		if servers, err = b.nsp.adapter.ServerCount(ctx); err != nil {
			return nil, fmt.Errorf("socketio: %q: counting the servers: %w", event, err)
		}
	}
	c := &collector{servers: max(servers, 1), done: make(chan struct{})}
	// The adapter's ctx ends as this call returns: an adapter that keeps
	// the request (a cluster's, for the other nodes' answers) drops it then.
	actx, stop := context.WithCancel(ctx)
	defer stop()
	if err := b.nsp.adapter.BroadcastWithAck(actx, p, b.options(), c.count, c.ack); err != nil {
		return nil, err
	}
	select {
	case <-c.done:
	case <-ctx.Done():
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	out := c.responses
	if c.nodes < c.servers {
		return out, fmt.Errorf("%w: %d acknowledgements for %q, %d of %d servers counted their recipients: %w",
			ErrAckTimeout, len(out), event, c.nodes, c.servers, ctx.Err())
	}
	if len(out) < c.expected {
		cause := ctx.Err()
		if cause == nil { // every missing recipient disconnected
			cause = ErrDisconnected
		}
		return out, fmt.Errorf("%w: %d of %d acknowledgements for %q: %w", ErrAckTimeout, len(out), c.expected, event, cause)
	}
	return out, nil
}

// collector gathers the acknowledgements of one broadcast: it is done when
// each of the servers has counted its recipients and every recipient
// answered or disconnected.
type collector struct {
	servers   int // nodes expected to count their recipients (1 alone)
	mu        sync.Mutex
	nodes     int // nodes that counted theirs
	expected  int // recipients counted so far
	closed    bool
	responses []Args
	gone      int // recipients that disconnected without answering
	done      chan struct{}
	finished  bool
}

func (c *collector) count(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nodes++
	c.expected += n
	c.check()
}

func (c *collector) ack(_ adapter.SocketID, p *parser.Packet) {
	if p == nil { // the socket disconnected: its answer stays missing
		c.mu.Lock()
		defer c.mu.Unlock()
		if !c.closed {
			c.gone++
			c.check()
		}
		return
	}
	args, err := argsFrom(p.Data, p.Attachments, 0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || err != nil {
		return
	}
	c.responses = append(c.responses, args)
	c.check()
}

func (c *collector) check() {
	if c.nodes >= c.servers && !c.finished && len(c.responses)+c.gone >= c.expected {
		c.finished = true
		close(c.done)
	}
}

// FetchSockets describes the selected sockets (Node's fetchSockets): a
// snapshot of their ids, rooms, data and handshakes, in no particular
// order. ctx bounds the adapter's calls to other nodes.
func (b BroadcastOperator) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	if err := b.nsp.srv.checkOpen(); err != nil {
		return nil, err
	}
	infos, err := b.nsp.adapter.FetchSockets(ctx, b.options())
	if err != nil {
		return nil, err
	}
	out := make([]*RemoteSocket, len(infos))
	for i, info := range infos {
		rs := &RemoteSocket{ID: info.ID, Rooms: info.Rooms, Data: info.Data, nsp: b.nsp}
		if hs, ok := info.Handshake.(*Handshake); ok {
			rs.Handshake = hs
		}
		out[i] = rs
	}
	return out, nil
}

// SocketsJoin makes the selected sockets join rooms (Node's socketsJoin).
func (b BroadcastOperator) SocketsJoin(rooms ...string) error {
	if err := b.nsp.srv.checkOpen(); err != nil {
		return err
	}
	return b.nsp.adapter.AddSockets(b.options(), rooms)
}

// SocketsLeave makes the selected sockets leave rooms (Node's
// socketsLeave).
func (b BroadcastOperator) SocketsLeave(rooms ...string) error {
	if err := b.nsp.srv.checkOpen(); err != nil {
		return err
	}
	return b.nsp.adapter.DelSockets(b.options(), rooms)
}

// DisconnectSockets disconnects the selected sockets (with close, their
// whole connections), as Socket.Disconnect each (Node's disconnectSockets).
// It does not wait for their disconnect handlers.
func (b BroadcastOperator) DisconnectSockets(close bool) error {
	if err := b.nsp.srv.checkOpen(); err != nil {
		return err
	}
	return b.nsp.adapter.DisconnectSockets(b.options(), close)
}

// RemoteSocket describes a socket returned by FetchSockets, possibly on
// another node (Node's RemoteSocket): a snapshot taken then. Its methods act
// on the socket by id, through the adapter, and do nothing (returning nil)
// if it has disconnected since. They are safe for concurrent use.
type RemoteSocket struct {
	ID        string     // the socket id (Socket.ID)
	Rooms     []string   // its rooms, its own id first
	Handshake *Handshake // nil for sockets of other nodes
	Data      any        // the value given to Socket.SetData
	nsp       *Namespace
}

// Emit sends an event to the socket, as a broadcast to its id (so
// ErrDisconnected is never returned).
func (r *RemoteSocket) Emit(event string, args ...any) error {
	return r.nsp.To(r.ID).Emit(event, args...)
}

// Join makes the socket join rooms (SocketsJoin on its id).
func (r *RemoteSocket) Join(rooms ...string) error { return r.nsp.To(r.ID).SocketsJoin(rooms...) }

// Leave makes the socket leave rooms (SocketsLeave on its id).
func (r *RemoteSocket) Leave(rooms ...string) error { return r.nsp.To(r.ID).SocketsLeave(rooms...) }

// Disconnect disconnects the socket (with close, its connection).
func (r *RemoteSocket) Disconnect(close bool) error {
	return r.nsp.To(r.ID).DisconnectSockets(close)
}
