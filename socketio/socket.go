package socketio

import (
	"context"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/engineio"
	"switchboard/socketio/adapter"
	"switchboard/socketio/parser"
)

// Socket is a client's connection to one namespace (Node's socket). Its
// methods are safe for concurrent use, and it may be kept and used after
// its handlers return (until it disconnects, Emit then returning
// ErrDisconnected). Handlers of one client never run concurrently: events,
// connection and disconnection handlers of all its sockets run one at a
// time, in arrival order (see the package doc).
type Socket struct {
	id     string
	nsp    *Namespace
	client *client
	hs     Handshake

	connected atomic.Bool
	// serverClosed: disconnected by the server, which drops the events still
	// queued; those received before the client left are handled.
	serverClosed atomic.Bool
	// ready: broadcasts and bulk operations may select the socket; they
	// wait for replied (its CONNECT reply queued, under replyMu), so that
	// nothing of its namespace overtakes that reply.
	ready   atomic.Bool
	replied atomic.Bool
	replyMu sync.Mutex
	data    atomic.Pointer[any]

	roomsMu sync.Mutex // orders Join against the teardown's leaving every room
	// pendingRooms: joined in a connection middleware, before the socket
	// is in its namespace; the socket joins them as it connects (roomsMu).
	pendingRooms []string

	mu           sync.Mutex
	handlers     []namedHandler
	anyHandlers  []EventHandler
	middlewares  []PacketMiddleware
	errorHandler func(s *Socket, err error)
	acks         map[int64]ackWaiter
	acksClosed   bool  // disconnected: no more waiters
	slot         int32 // index in client.sockets; client.mu (here: in acksClosed's padding)
	// ctx is the socket's Context, made on first use (most sockets never
	// ask); ended is why the socket ended, once it has.
	ctx   *socketContext
	ended error
}

type socketContext struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
}

type namedHandler struct {
	name string
	h    EventHandler
}

// ackWaiter receives the acknowledgement of one emitted event.
type ackWaiter struct {
	fn      func(p *parser.Packet) // nil packet: the socket disconnected
	expires time.Time              // zero: waits until answered or disconnected
}

// PacketMiddleware runs before an incoming event is handled (Node's
// socket.use(([event, ...args], next) => …)), after the OnAny handlers; an
// error stops the event — its handlers do not run, and it is not
// acknowledged — and is reported to the socket's OnError handler. The
// connection stays open.
type PacketMiddleware func(s *Socket, e *Event) error

// Context returns a context that ends when the socket does: when it
// disconnects, whatever the way (context.Cause is then a *DisconnectError
// with the reason), or — for a socket still in its connection middlewares —
// when it is refused (the cause wraps ErrDisconnected and the refusal) or
// its client goes away. It ends as the socket is marked disconnected, before
// the disconnect handlers run. Give it to I/O done for the socket (a
// database query in a handler), so the I/O stops when nobody waits for it.
// It returns the same context on every call; asked for after the end, it is
// already done.
func (s *Socket) Context() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == nil {
		ctx, cancel := context.WithCancelCause(context.Background())
		s.ctx = &socketContext{ctx, cancel}
		if s.ended != nil {
			cancel(s.ended)
		}
	}
	return s.ctx.ctx
}

// end ends the socket's Context with cause (the first cause wins).
func (s *Socket) end(cause error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended != nil {
		return
	}
	s.ended = cause
	if s.ctx != nil {
		s.ctx.cancel(cause)
	}
}

// ID returns the socket id (Node's socket.id): 20 URL-safe characters,
// also the name of the socket's own room, so s.Namespace().To(id) reaches
// it. It differs from the Engine.IO session id.
func (s *Socket) ID() string { return s.id }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns how the socket connected (Node's socket.handshake).
func (s *Socket) Handshake() *Handshake { return &s.hs }

// Connected reports whether the socket is connected: false from the
// moment it starts disconnecting, before its "disconnecting" handlers run.
func (s *Socket) Connected() bool { return s.connected.Load() }

// Transport returns the connection's current transport ("polling" or
// "websocket"; Node's socket.conn.transport.name). It changes once, when
// the connection upgrades.
func (s *Socket) Transport() string { return s.client.sess.Transport() }

// SetData attaches application data to the socket (Node's socket.data),
// replacing the previous value; FetchSockets returns it. A cluster adapter
// may need to encode it.
func (s *Socket) SetData(v any) { s.data.Store(&v) }

// Data returns the value given to SetData, or nil.
func (s *Socket) Data() any {
	if p := s.data.Load(); p != nil {
		return *p
	}
	return nil
}

// On registers h for event (Node's socket.on); several handlers of one
// event run in the order they were registered. Registering "disconnecting"
// or "disconnect" receives those pseudo-events, with Event.Reason set. An
// event without a handler is dropped (and, if the client asked for one,
// not acknowledged).
func (s *Socket) On(event string, h EventHandler) {
	s.mu.Lock()
	s.handlers = append(s.handlers, namedHandler{event, h})
	s.mu.Unlock()
}

// OnAny registers h for every incoming event, before the packet
// middlewares and the event's own handlers (Node's socket.onAny). The
// pseudo-events "disconnecting" and "disconnect" are not delivered to it.
func (s *Socket) OnAny(h EventHandler) {
	s.mu.Lock()
	s.anyHandlers = append(s.anyHandlers, h)
	s.mu.Unlock()
}

// Use adds a middleware run for every incoming event, in the order added;
// see PacketMiddleware.
func (s *Socket) Use(mw PacketMiddleware) {
	s.mu.Lock()
	s.middlewares = append(s.middlewares, mw)
	s.mu.Unlock()
}

// OnDisconnect registers fn for the socket's disconnection (Node's
// socket.on("disconnect")), whatever its reason. It runs on the client's
// handler goroutine after the socket left its rooms; register it in
// OnConnection. Server.Close waits for it.
func (s *Socket) OnDisconnect(fn func(s *Socket, reason DisconnectReason)) {
	s.On("disconnect", func(s *Socket, e *Event) { fn(s, e.Reason) })
}

// OnDisconnecting registers fn to run when the socket is about to
// disconnect, while it is still in its rooms (Rooms still lists them), as
// Node's socket.on("disconnecting"). Emit to the socket fails by then;
// broadcasts to its rooms reach the others.
func (s *Socket) OnDisconnecting(fn func(s *Socket, reason DisconnectReason)) {
	s.On("disconnecting", func(s *Socket, e *Event) { fn(s, e.Reason) })
}

// OnError sets the handler of the socket's errors (Node's
// socket.on("error")): a PacketMiddleware's error, a panic (a *PanicError)
// in a connection handler, event handler or packet middleware. A later call
// replaces fn. Without one, panics are logged at level Error with their
// stack, other errors at level Warn, on Options.Logger.
func (s *Socket) OnError(fn func(s *Socket, err error)) {
	s.mu.Lock()
	s.errorHandler = fn
	s.mu.Unlock()
}

// Emit sends an event to this client (Node's socket.emit). Arguments are
// encoded as JSON (with encoding/json, HTML characters unescaped;
// json.RawMessage as it is); a []byte — an argument, or anywhere inside
// one: map and slice elements, struct fields — is sent as binary, a
// Buffer for the Node client and an ArrayBuffer in browsers. An event may
// hold at most 10 binary values, what the official client accepts; more
// fail with an error.
//
// It queues the event and returns; it never blocks on the network, and
// events from one goroutine arrive in order. It returns an error wrapping
// ErrReservedEvent for a reserved name, ErrDisconnected once the socket is
// disconnected, or the encoding error (wrapped; see the package doc).
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(0, event, args)
}

// EmitMany sends several events to this client, in order, in one step (see
// BroadcastOperator.EmitMany for Message): they are queued together and
// usually leave in one write (over polling, in one response), and a
// volatile emitter drops all or none of them. Every event is checked and
// encoded before anything is queued: an error wrapping ErrReservedEvent or
// an encoding error (naming the event) sends nothing. Other errors are
// those of Emit. With no msgs it sends nothing and returns nil (or
// ErrDisconnected).
func (s *Socket) EmitMany(msgs ...Message) error {
	return s.emitMany(0, msgs)
}

// Volatile returns an emitter whose events are dropped when the client
// cannot take them right now (Node's socket.volatile): over polling when no
// poll is waiting, over WebSocket when frames are still queued.
func (s *Socket) Volatile() Emitter { return Emitter{s: s, opts: engineio.Volatile} }

// Compress(false) returns an emitter whose events are sent without
// compression (Node's socket.compress(false)), for data that does not
// compress, such as images. It matters only where compression is on:
// WebSocket messages under engineio.Options.PerMessageDeflate, long-polling
// responses (see engineio.Uncompressed).
func (s *Socket) Compress(compress bool) Emitter { return Emitter{s: s}.Compress(compress) }

// Emitter sends events to one socket with options (see Socket.Volatile,
// Socket.Compress). It is a value, safe for concurrent use; its methods
// that set an option return a modified copy.
type Emitter struct {
	s    *Socket
	opts engineio.SendOptions
}

// Volatile is Socket.Volatile with the emitter's other options.
func (e Emitter) Volatile() Emitter {
	e.opts |= engineio.Volatile
	return e
}

// Compress is Socket.Compress with the emitter's other options.
func (e Emitter) Compress(compress bool) Emitter {
	if compress {
		e.opts &^= engineio.Uncompressed
	} else {
		e.opts |= engineio.Uncompressed
	}
	return e
}

// Emit is Socket.Emit with the emitter's options.
func (e Emitter) Emit(event string, args ...any) error { return e.s.emit(e.opts, event, args) }

// EmitMany is Socket.EmitMany with the emitter's options.
func (e Emitter) EmitMany(msgs ...Message) error { return e.s.emitMany(e.opts, msgs) }

// EmitWithAck is Socket.EmitWithAck with the emitter's options. A volatile
// event that is dropped is never acknowledged: give ctx a deadline.
func (e Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return e.s.emitWithAck(ctx, e.opts, event, args)
}

func (s *Socket) emitMany(opts engineio.SendOptions, msgs []Message) error {
	for _, m := range msgs {
		if isReserved(m.Event) {
			return fmt.Errorf("%w: %q", ErrReservedEvent, m.Event)
		}
	}
	if !s.connected.Load() {
		return ErrDisconnected
	}
	if len(msgs) == 0 {
		return nil
	}
	var pkts []*engineio.Packet
	for _, m := range msgs {
		p, err := eventPacket(s.nsp.name, m.Event, m.Args)
		if err != nil {
			return fmt.Errorf("%w (event %q)", err, m.Event)
		}
		pkts = append(pkts, encode(p)...)
	}
	return s.client.sendEncoded(pkts, opts)
}

func (s *Socket) emit(opts engineio.SendOptions, event string, args []any) error {
	if isReserved(event) {
		return fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if !s.connected.Load() {
		return ErrDisconnected
	}
	p, err := eventPacket(s.nsp.name, event, args)
	if err != nil {
		return err
	}
	return s.client.send(p, opts)
}

func eventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	data, atts, err := eventData(event, args)
	if err != nil {
		return nil, err
	}
	if err := checkAttachments(atts); err != nil {
		return nil, err
	}
	return newPacket(parser.Event, nsp, data, atts), nil
}

// checkAttachments refuses more binary values than the official client
// accepts in one packet (its parser closes the connection).
func checkAttachments(atts [][]byte) error {
	if len(atts) > parser.DefaultMaxAttachments {
		return fmt.Errorf("socketio: %d binary arguments, clients accept at most %d", len(atts), parser.DefaultMaxAttachments)
	}
	return nil
}

// EmitWithAck sends an event and waits for the client's acknowledgement
// (Node's socket.timeout(ms).emitWithAck: give ctx a deadline with
// context.WithTimeout). It returns the acknowledgement's arguments, or:
// an error wrapping both ErrAckTimeout and ctx.Err() when ctx ends first
// (having ended already, nothing is sent);
// ErrDisconnected when the socket is or becomes disconnected before the
// acknowledgement; an error wrapping ErrReservedEvent, or the encoding
// error, as Emit. Without a deadline it waits until the client answers or
// disconnects. Ending the wait never closes the socket; an acknowledgement
// arriving later is dropped.
//
// Called from one of the client's own handlers, give ctx a deadline: while
// the handler waits, the client's further events queue up, and past 256 of
// them (or 4 MiB) the connection is no longer read — nor, then, the
// acknowledgement — until the handler returns.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	return s.emitWithAck(ctx, 0, event, args)
}

func (s *Socket) emitWithAck(ctx context.Context, opts engineio.SendOptions, event string, args []any) (Args, error) {
	if isReserved(event) {
		return Args{}, fmt.Errorf("%w: %q", ErrReservedEvent, event)
	}
	if !s.connected.Load() {
		return Args{}, ErrDisconnected
	}
	if err := ctx.Err(); err != nil { // nobody would wait for the answer
		return Args{}, fmt.Errorf("%w: %q: %w", ErrAckTimeout, event, err)
	}
	p, err := eventPacket(s.nsp.name, event, args)
	if err != nil {
		return Args{}, err
	}
	id := s.nsp.nextAckID()
	p.ID, p.HasID = id, true
	got := make(chan *parser.Packet, 1)
	if testHookEmitWithAck != nil {
		testHookEmitWithAck()
	}
	if !s.addAck(id, ackWaiter{fn: func(p *parser.Packet) { got <- p }}) {
		return Args{}, ErrDisconnected // disconnected since the check above
	}
	if err := s.client.send(p, opts); err != nil {
		s.removeAck(id)
		return Args{}, err
	}
	select {
	case ack := <-got:
		if ack == nil {
			return Args{}, ErrDisconnected
		}
		return argsFrom(ack.Data, ack.Attachments, 0)
	case <-ctx.Done():
		s.removeAck(id)
		return Args{}, fmt.Errorf("%w: %q: %w", ErrAckTimeout, event, ctx.Err())
	}
}

// testHookEmitWithAck runs in EmitWithAck between its check that the socket
// is connected and the registration of its waiter (tests only).
var testHookEmitWithAck func()

// addAck registers the waiter of an acknowledgement; false once the socket
// is disconnected (releaseAcks ran: nobody would answer or release it).
func (s *Socket) addAck(id int64, w ackWaiter) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.acksClosed {
		return false
	}
	if s.acks == nil {
		s.acks = make(map[int64]ackWaiter)
	}
	if len(s.acks) >= 64 { // drop broadcast acks whose collectors gave up
		now := time.Now()
		for k, v := range s.acks {
			if !v.expires.IsZero() && now.After(v.expires) {
				delete(s.acks, k)
			}
		}
	}
	s.acks[id] = w
	return true
}

func (s *Socket) removeAck(id int64) {
	s.mu.Lock()
	delete(s.acks, id)
	s.mu.Unlock()
}

// onAck resolves an acknowledgement; called on the connection's reader.
func (s *Socket) onAck(p *parser.Packet) {
	s.mu.Lock()
	w, ok := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if ok {
		w.fn(p)
	}
}

// awaitReply returns once the socket's CONNECT reply is queued (at once,
// but in the microseconds in which it is being queued).
func (s *Socket) awaitReply() {
	if !s.replied.Load() {
		s.replyMu.Lock()
		//lint:ignore SA2001 an empty critical section on purpose: it only waits for connect to release the lock
		s.replyMu.Unlock()
	}
}

// closing reports a socket that was connected and is disconnecting or gone
// (not one whose CONNECT is still being processed).
func (s *Socket) closing() bool { return s.ready.Load() && !s.connected.Load() }

// Join adds the socket to rooms (Node's socket.join). A room exists while
// it has sockets; joining twice is joining once. In a connection
// middleware, the socket joins the rooms as it connects (not at all if it
// is refused); once it is disconnected, Join does nothing. Safe to call
// from any goroutine, also while the socket disconnects: the rooms are then
// left with the others at its teardown.
func (s *Socket) Join(rooms ...string) {
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	switch {
	case s.connected.Load():
		s.nsp.adapter.AddAll(s.id, rooms)
	case !s.ready.Load(): // still connecting: in a middleware
		s.pendingRooms = append(s.pendingRooms, rooms...)
	}
}

// joinOnConnect puts the connecting socket in the room of its id and in
// those joined by the middlewares.
func (s *Socket) joinOnConnect() {
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	rooms := append([]string{s.id}, s.pendingRooms...)
	s.pendingRooms = nil
	s.nsp.adapter.AddAll(s.id, rooms)
}

// Leave removes the socket from a room (Node's socket.leave); leaving a
// room it is not in does nothing. A disconnecting socket leaves all its
// rooms by itself. In a connection middleware it undoes a Join.
func (s *Socket) Leave(room string) {
	if !s.ready.Load() {
		s.roomsMu.Lock()
		if !s.connected.Load() {
			s.pendingRooms = slices.DeleteFunc(s.pendingRooms, func(r string) bool { return r == room })
		}
		s.roomsMu.Unlock()
	}
	s.nsp.adapter.Del(s.id, room)
}

// Rooms returns the socket's rooms, its own id first (Node's
// socket.rooms); nil once it has disconnected.
func (s *Socket) Rooms() []string { return s.nsp.adapter.SocketRooms(s.id) }

// To returns a broadcast to the sockets in any of rooms except this one
// (Node's socket.to(room)): s.To(room).Emit reaches everyone in room but
// the sender. To include the sender, use s.Namespace().To(room).
func (s *Socket) To(rooms ...string) BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is To.
func (s *Socket) In(rooms ...string) BroadcastOperator { return s.To(rooms...) }

// Except returns a broadcast to every socket of the namespace but those in
// rooms and this one (Node's socket.except(room)).
func (s *Socket) Except(rooms ...string) BroadcastOperator { return s.Broadcast().Except(rooms...) }

// Broadcast returns a broadcast to every socket of the namespace but this
// one (Node's socket.broadcast).
func (s *Socket) Broadcast() BroadcastOperator {
	return BroadcastOperator{nsp: s.nsp, except: []string{s.id}}
}

// Local is Broadcast restricted to this node (in a cluster).
func (s *Socket) Local() BroadcastOperator { return s.Broadcast().Local() }

// Disconnect disconnects the socket from its namespace (Node's
// socket.disconnect(close)); the client is told (its reason: "io server
// disconnect") and does not reconnect by itself. With close, the whole
// connection closes (every namespace of the client). The socket's reason is
// ReasonServerNamespaceDisconnect. It returns at once: the disconnect
// handlers run later on the client's handler goroutine (after the current
// handler, when called from one). Disconnecting a disconnected socket does
// nothing.
func (s *Socket) Disconnect(close bool) {
	if close {
		s.client.disconnectAll()
		return
	}
	s.disconnect()
}

func (s *Socket) disconnect() {
	// Closed first, then told: a client that closes its connection as soon
	// as it reads the DISCONNECT cannot turn the reason into "transport close".
	if !s.connected.CompareAndSwap(true, false) {
		return
	}
	s.serverClosed.Store(true)
	s.end(&DisconnectError{Reason: ReasonServerNamespaceDisconnect})
	_ = s.client.send(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name}, 0)
	s.releaseAcks()
	s.client.run(func() { s.teardown(ReasonServerNamespaceDisconnect) })
}

// close marks the socket disconnected and schedules its teardown on the
// client's runner: "disconnecting" handlers (rooms still visible), leaving
// the rooms, then "disconnect" handlers.
func (s *Socket) close(reason DisconnectReason) {
	if !s.connected.CompareAndSwap(true, false) {
		return
	}
	s.end(&DisconnectError{Reason: reason})
	s.releaseAcks()
	s.client.run(func() { s.teardown(reason) })
}

// releaseAcks tells every waiter of an acknowledgement that none will come.
// It runs as soon as the socket is disconnected, not in the teardown: the
// teardown is queued on the runner, possibly behind a handler that is
// itself waiting in EmitWithAck.
func (s *Socket) releaseAcks() {
	s.mu.Lock()
	acks := s.acks
	s.acks = nil
	s.acksClosed = true
	s.mu.Unlock()
	for _, w := range acks {
		w.fn(nil)
	}
}

func (s *Socket) teardown(reason DisconnectReason) {
	s.fire("disconnecting", reason)
	s.roomsMu.Lock() // a Join that saw the socket connected has finished
	s.nsp.adapter.DelAll(s.id)
	s.roomsMu.Unlock()
	s.nsp.remove(s)
	s.client.removeSocket(s)
	s.fire("disconnect", reason)
}

// fire runs the handlers of a pseudo-event.
func (s *Socket) fire(name string, reason DisconnectReason) {
	e := &Event{Name: name, Reason: reason}
	for _, h := range s.lookup(name) {
		s.call(h, e)
	}
}

// lookup returns the handlers for name: the socket's, else the namespace's.
func (s *Socket) lookup(name string) []EventHandler {
	var hs []EventHandler
	s.mu.Lock()
	for _, nh := range s.handlers {
		if nh.name == name {
			hs = append(hs, nh.h)
		}
	}
	s.mu.Unlock()
	if hs == nil {
		hs = s.nsp.eventHandlers(name)
	}
	return hs
}

// onEvent handles an EVENT packet; runs on the client's runner. An event
// received while the socket was connected is handled even if the client has
// left since (as Node dispatches events as they arrive), unless the server
// disconnected the socket.
func (s *Socket) onEvent(p *parser.Packet) {
	if s.serverClosed.Load() {
		return
	}
	e, err := s.newEvent(p)
	if err != nil {
		s.client.closeConn(engineio.ReasonParseError, err)
		return
	}
	s.mu.Lock()
	anys := s.anyHandlers
	mws := s.middlewares
	s.mu.Unlock()
	for _, h := range anys {
		s.call(h, e)
	}
	for _, mw := range mws {
		if err := s.callMiddleware(mw, e); err != nil {
			s.reportError(err)
			return
		}
	}
	if s.serverClosed.Load() {
		return
	}
	for _, h := range s.lookup(e.Name) {
		s.call(h, e)
	}
}

func (s *Socket) newEvent(p *parser.Packet) (*Event, error) {
	raw, err := parser.SplitArray(nil, p.Data)
	if err != nil || len(raw) == 0 {
		return nil, fmt.Errorf("socketio: event payload: %v", err)
	}
	var name string
	if raw[0][0] == '"' {
		if name, err = parser.UnquoteString(raw[0]); err != nil {
			return nil, err
		}
	} else {
		name = string(raw[0]) // a numeric event name, as its JSON text
		if f, err := strconv.ParseFloat(name, 64); err == nil {
			name = strconv.FormatFloat(f, 'f', -1, 64)
		}
	}
	var atts [][]byte
	if p.Type == parser.BinaryEvent {
		atts = p.Attachments
	}
	e := &Event{Name: name, Args: Args{raw: raw[1:], attachments: atts}}
	if p.HasID {
		e.ack = &ack{s: s, id: p.ID}
	}
	return e, nil
}

func (s *Socket) call(h EventHandler, e *Event) {
	defer func() {
		if r := recover(); r != nil {
			s.reportError(&PanicError{Handler: fmt.Sprintf("handler of %q", e.Name), Value: r, Stack: debug.Stack()})
		}
	}()
	h(s, e)
}

// callConnection runs a connection handler (Namespace.OnConnection).
func (s *Socket) callConnection(fn func(*Socket)) {
	defer func() {
		if r := recover(); r != nil {
			s.reportError(&PanicError{Handler: "connection handler", Value: r, Stack: debug.Stack()})
		}
	}()
	fn(s)
}

func (s *Socket) callMiddleware(mw PacketMiddleware, e *Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Handler: "packet middleware", Value: r, Stack: debug.Stack()}
		}
	}()
	return mw(s, e)
}

// reportError gives err to the socket's OnError handler, or logs it: a
// panic at level Error with its stack, anything else at Warn.
func (s *Socket) reportError(err error) {
	s.mu.Lock()
	fn := s.errorHandler
	s.mu.Unlock()
	if fn != nil {
		fn(s, err)
		return
	}
	if pe, ok := err.(*PanicError); ok {
		s.nsp.srv.log.Error("socketio: "+pe.Handler+" panicked", "nsp", s.nsp.name, "sid", s.id, "panic", pe.Value, "stack", string(pe.Stack))
		return
	}
	s.nsp.srv.log.Warn("socketio: socket error", "nsp", s.nsp.name, "sid", s.id, "err", err)
}

// info describes the socket for FetchSockets.
func (s *Socket) info() adapter.SocketInfo {
	return adapter.SocketInfo{ID: s.id, Handshake: &s.hs, Data: s.Data()}
}
