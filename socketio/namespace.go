package socketio

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/engineio"
	"switchboard/socketio/adapter"
	"switchboard/socketio/parser"
)

// Middleware vets a socket before it connects to a namespace (Node's
// io.use((socket, next) => …)): nil lets it through to the next middleware,
// a non-nil error refuses it — the client gets connect_error with the
// error's message, and ConnectError.Data if it is a *ConnectError. A panic
// refuses it too, telling the client only "internal server error" (the
// panic and its stack go to Options.Logger). It runs on the client's handler goroutine and may block
// (a database lookup): only this client waits. ctx is s.Context(): it ends
// if the client goes away or the server closes before the socket is
// accepted, so give it to the lookup. The socket is not connected yet: read
// its Handshake, call SetData and Join (the socket joins those rooms as it
// connects), but emit in OnConnection (here Emit returns ErrDisconnected).
type Middleware func(ctx context.Context, s *Socket) error

// Namespace is a communication channel multiplexed over the connections
// (Node's io.of(name)): its own middlewares, handlers, rooms and sockets.
// Get one with Server.Of, or from a ParentNamespace for dynamic ones. It is
// safe for concurrent use.
type Namespace struct {
	name    string
	srv     *Server
	parent  *ParentNamespace // for dynamic namespaces
	adapter adapter.Adapter
	ackIDs  atomic.Int64

	mu          sync.RWMutex
	removed     bool // an empty dynamic namespace that was cleaned up
	sockets     map[string]*Socket
	middlewares []Middleware
	onConnect   []func(s *Socket)
	handlers    map[string][]EventHandler
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{name: name, srv: srv, sockets: make(map[string]*Socket)}
	n.adapter = srv.adapterFactory(local{n})
	return n
}

// Name returns the namespace name ("/", "/chat").
func (n *Namespace) Name() string { return n.name }

// Adapter returns the namespace's adapter (Node's nsp.adapter).
func (n *Namespace) Adapter() adapter.Adapter { return n.adapter }

// Use adds a connection middleware (Node's nsp.use). Middlewares run in
// the order they were added — a ParentNamespace's first — for each socket
// connecting to the namespace; the first error refuses it.
func (n *Namespace) Use(mw Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, mw)
	n.mu.Unlock()
}

// OnConnection registers fn for each socket that connects (Node's
// nsp.on("connection")), after the middlewares accepted it and the client
// was told. Register the socket's handlers in fn: events the client sends
// right after connecting wait for fn to return. fn runs on the client's
// handler goroutine; a panic in it is recovered and reported as a
// *PanicError to the socket's OnError handler, if fn set one before
// panicking, or logged with its stack. The socket stays connected.
func (n *Namespace) OnConnection(fn func(s *Socket)) {
	n.mu.Lock()
	n.onConnect = append(n.onConnect, fn)
	n.mu.Unlock()
}

// On registers h for event on every socket of the namespace that has no
// handler of its own for it (registered with Socket.On), which costs no
// memory per socket; Node has no equivalent. As in Node,
// On("connection", h) (or "connect") is OnConnection: h runs for each
// connecting socket, with an Event named "connection".
func (n *Namespace) On(event string, h EventHandler) {
	if event == "connection" || event == "connect" {
		n.OnConnection(func(s *Socket) { h(s, &Event{Name: event}) })
		return
	}
	n.mu.Lock()
	if n.handlers == nil {
		n.handlers = make(map[string][]EventHandler)
	}
	n.handlers[event] = append(n.handlers[event], h)
	n.mu.Unlock()
}

func (n *Namespace) eventHandlers(name string) []EventHandler {
	n.mu.RLock()
	hs := n.handlers[name]
	n.mu.RUnlock()
	if hs == nil && n.parent != nil {
		n.parent.mu.RLock()
		hs = n.parent.handlers[name]
		n.parent.mu.RUnlock()
	}
	return hs
}

func (n *Namespace) allMiddlewares() []Middleware {
	var out []Middleware
	if n.parent != nil {
		n.parent.mu.RLock()
		out = append(out, n.parent.middlewares...)
		n.parent.mu.RUnlock()
	}
	n.mu.RLock()
	out = append(out, n.middlewares...)
	n.mu.RUnlock()
	return out
}

func (n *Namespace) connectionHandlers() []func(s *Socket) {
	var out []func(s *Socket)
	if n.parent != nil {
		n.parent.mu.RLock()
		out = append(out, n.parent.onConnect...)
		n.parent.mu.RUnlock()
	}
	n.mu.RLock()
	out = append(out, n.onConnect...)
	n.mu.RUnlock()
	return out
}

// Sockets returns the namespace's sockets connected to this node, in no
// particular order (Node's nsp.sockets); FetchSockets also sees other
// nodes'.
func (n *Namespace) Sockets() []*Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Socket, 0, len(n.sockets))
	for _, s := range n.sockets {
		out = append(out, s)
	}
	return out
}

// Socket returns a socket of this node by id (Node's nsp.sockets.get(id)).
func (n *Namespace) Socket(id string) (*Socket, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	s, ok := n.sockets[id]
	return s, ok
}

// Count returns the number of sockets connected to this node (Node's
// nsp.sockets.size).
func (n *Namespace) Count() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

func (n *Namespace) nextAckID() int64 { return n.ackIDs.Add(1) - 1 }

// add adds a connecting socket; false if the namespace was cleaned up
// meanwhile (the caller looks it up again).
func (n *Namespace) add(s *Socket) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.removed {
		return false
	}
	n.sockets[s.id] = s
	return true
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	cleanup := n.parent != nil && n.srv.cleanupEmpty && len(n.sockets) == 0 && !n.removed
	if cleanup {
		n.removed = true
	}
	n.mu.Unlock()
	if cleanup {
		n.parent.drop(n)
	}
}

// Broadcast operators on the whole namespace.

func (n *Namespace) op() BroadcastOperator { return BroadcastOperator{nsp: n} }

// Emit sends an event to every socket of the namespace (Node's nsp.emit);
// see BroadcastOperator.Emit.
func (n *Namespace) Emit(event string, args ...any) error { return n.op().Emit(event, args...) }

// EmitMany sends several events, in order, to every socket of the
// namespace (Node's nsp.emit several times in a row); see
// BroadcastOperator.EmitMany.
func (n *Namespace) EmitMany(msgs ...Message) error { return n.op().EmitMany(msgs...) }

// EmitWithAck sends an event to every socket and collects their
// acknowledgements; see BroadcastOperator.EmitWithAck.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]Args, error) {
	return n.op().EmitWithAck(ctx, event, args...)
}

// To selects the sockets in rooms.
func (n *Namespace) To(rooms ...string) BroadcastOperator { return n.op().To(rooms...) }

// In is To.
func (n *Namespace) In(rooms ...string) BroadcastOperator { return n.op().To(rooms...) }

// Except excludes the sockets in rooms.
func (n *Namespace) Except(rooms ...string) BroadcastOperator { return n.op().Except(rooms...) }

// Local restricts a broadcast to this node.
func (n *Namespace) Local() BroadcastOperator { return n.op().Local() }

// Volatile drops the broadcast for clients that cannot take it right now.
func (n *Namespace) Volatile() BroadcastOperator { return n.op().Volatile() }

// Compress(false) broadcasts without compression (see
// BroadcastOperator.Compress).
func (n *Namespace) Compress(compress bool) BroadcastOperator { return n.op().Compress(compress) }

// Timeout bounds a broadcast's wait for acknowledgements.
func (n *Namespace) Timeout(d time.Duration) BroadcastOperator { return n.op().Timeout(d) }

// FetchSockets describes every socket of the namespace.
func (n *Namespace) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return n.op().FetchSockets(ctx)
}

// SocketsJoin makes every socket join rooms.
func (n *Namespace) SocketsJoin(rooms ...string) error { return n.op().SocketsJoin(rooms...) }

// SocketsLeave makes every socket leave rooms.
func (n *Namespace) SocketsLeave(rooms ...string) error { return n.op().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket (with close, their connections).
func (n *Namespace) DisconnectSockets(close bool) error { return n.op().DisconnectSockets(close) }

// ServerSideEmit sends an event to the other nodes of a cluster (Node's
// serverSideEmit, without acknowledgements): nothing with the in-memory
// adapter, which returns nil at once. ctx bounds the adapter's network
// calls. It returns ErrReservedEvent or an encoding error as Emit does,
// or the adapter's error.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if err := n.srv.checkOpen(); err != nil {
		return err
	}
	p, err := eventPacket(n.name, event, args)
	if err != nil {
		return err
	}
	return n.adapter.ServerSideEmit(ctx, p)
}

// local is what an adapter sees of its namespace (adapter.Namespace): how it
// reaches the local sockets. It is not the Namespace itself, so that these
// methods, for adapters only, stay out of the application's API.
type local struct{ n *Namespace }

var _ adapter.Namespace = local{}

// Name implements adapter.Namespace.
func (l local) Name() string { return l.n.name }

// Deliver implements adapter.Namespace.
func (l local) Deliver(ps []*parser.Packet, ids []adapter.SocketID, flags adapter.BroadcastFlags) {
	l.n.deliver(ps, ids, flags)
}

// DeliverWithAck implements adapter.Namespace.
func (l local) DeliverWithAck(p *parser.Packet, ids []adapter.SocketID, flags adapter.BroadcastFlags, onAck adapter.AckFunc) int {
	return l.n.deliverWithAck(p, ids, flags, onAck)
}

// Disconnect implements adapter.Namespace.
func (l local) Disconnect(ids []adapter.SocketID, close bool) { l.n.disconnectIDs(ids, close) }

// SocketInfo implements adapter.Namespace.
func (l local) SocketInfo(id adapter.SocketID) (adapter.SocketInfo, bool) { return l.n.socketInfo(id) }

// NextAckID implements adapter.Namespace: a fresh acknowledgement id of the
// namespace, from the counter its sockets' EmitWithAck use, for a packet an
// adapter gives to DeliverWithAck (one from another node of a cluster
// carries that node's id, which a local socket may be waiting on).
func (l local) NextAckID() int64 { return l.n.nextAckID() }

var socketLists = sync.Pool{New: func() any { return new([]*Socket) }}

// collect resolves ids to the sockets an operation may reach: connected
// and ready, with their CONNECT reply queued (it waits for the few being
// queued right now).
func (n *Namespace) collect(ids []adapter.SocketID) *[]*Socket {
	list := socketLists.Get().(*[]*Socket)
	n.mu.RLock()
	for _, id := range ids {
		if s := n.sockets[id]; s != nil && s.ready.Load() && s.connected.Load() {
			*list = append(*list, s)
		}
	}
	n.mu.RUnlock()
	for _, s := range *list {
		s.awaitReply()
	}
	return list
}

func releaseList(list *[]*Socket) {
	clear(*list)
	*list = (*list)[:0]
	if cap(*list) <= 1<<16 {
		socketLists.Put(list)
	}
}

// deliver is adapter.Namespace's Deliver: each packet is encoded once and
// the same Engine.IO packets go to every recipient, all of them in one Send.
func (n *Namespace) deliver(ps []*parser.Packet, ids []adapter.SocketID, flags adapter.BroadcastFlags) {
	var pkts []*engineio.Packet
	if len(ps) == 1 {
		pkts = encode(ps[0])
	} else {
		for _, p := range ps {
			pkts = append(pkts, encode(p)...)
		}
	}
	opts := sendOptions(flags)
	list := n.collect(ids)
	batch := n.srv.eio.NewBatch()
	for _, s := range *list {
		_ = batch.Send(s.client.sess, opts, pkts...)
	}
	batch.Flush()
	releaseList(list)
}

// sendOptions are the engine's options for a broadcast's flags.
func sendOptions(flags adapter.BroadcastFlags) engineio.SendOptions {
	var opts engineio.SendOptions
	if flags.Volatile {
		opts |= engineio.Volatile
	}
	if flags.Uncompressed {
		opts |= engineio.Uncompressed
	}
	return opts
}

// deliverWithAck is adapter.Namespace's DeliverWithAck: as deliver,
// registering onAck for each recipient's acknowledgement.
func (n *Namespace) deliverWithAck(p *parser.Packet, ids []adapter.SocketID, flags adapter.BroadcastFlags, onAck adapter.AckFunc) int {
	pkts := encode(p)
	opts := sendOptions(flags)
	var expires time.Time
	if flags.Timeout > 0 {
		expires = time.Now().Add(flags.Timeout)
	}
	list := n.collect(ids)
	batch := n.srv.eio.NewBatch()
	sent := 0
	for _, s := range *list {
		id := s.id
		if !s.addAck(p.ID, ackWaiter{fn: func(ack *parser.Packet) { onAck(id, ack) }, expires: expires}) {
			continue // disconnected since collect: not reached
		}
		_ = batch.Send(s.client.sess, opts, pkts...)
		sent++
	}
	batch.Flush()
	releaseList(list)
	return sent
}

// disconnectIDs is adapter.Namespace's Disconnect: Socket.Disconnect(close)
// for each local socket of ids.
func (n *Namespace) disconnectIDs(ids []adapter.SocketID, close bool) {
	list := n.collect(ids)
	sockets := append([]*Socket(nil), *list...)
	releaseList(list)
	for _, s := range sockets {
		s.Disconnect(close)
	}
}

// socketInfo is adapter.Namespace's SocketInfo: the id, handshake and data
// of a connected local socket.
func (n *Namespace) socketInfo(id adapter.SocketID) (adapter.SocketInfo, bool) {
	s, ok := n.Socket(id)
	if !ok || !s.ready.Load() {
		return adapter.SocketInfo{}, false
	}
	return s.info(), true
}

// encode turns a Socket.IO packet into its Engine.IO messages: the text
// part, then one binary message per attachment.
func encode(p *parser.Packet) []*engineio.Packet {
	text := p.AppendText(make([]byte, 0, len(p.Data)+len(p.Namespace)+24))
	pkts := make([]*engineio.Packet, 0, 1+len(p.Attachments))
	pkts = append(pkts, engineio.NewMessage(text, false))
	for _, a := range p.Attachments {
		pkts = append(pkts, engineio.NewMessage(a, true))
	}
	return pkts
}
