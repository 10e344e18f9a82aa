package socketio

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/engineio"
	"switchboard/socketio/parser"
)

// client is one Engine.IO session seen from Socket.IO: its sockets (one per
// namespace), its packet decoder, and its runner.
//
// The runner executes the client's handlers one at a time, in arrival
// order, on a goroutine that exists only while there is work: the
// connection's reader never runs user code, so a handler may block — even on
// EmitWithAck, whose acknowledgement the reader resolves directly.
type client struct {
	srv  *Server
	sess *engineio.Session
	dec  parser.Decoder // used by the reader only

	mu sync.Mutex
	// sockets holds at most one socket per namespace, in connection order;
	// a removed one leaves a nil (counted in holes) until half are nil,
	// so that removing each of many sockets is not quadratic.
	sockets []*Socket
	// byNsp indexes sockets by namespace once a client has more than
	// scanSockets of them (nil before: most clients have one or two, and an
	// idle connection should not carry a map).
	byNsp        map[string]*Socket
	connecting   []string // namespaces whose CONNECT is being processed
	vetting      *Socket  // the socket in its connection middlewares (one at a time: on the runner)
	closed       bool
	holes        int32 // nil entries in sockets (here: in closed's padding)
	connectTimer *time.Timer

	runMu    sync.Mutex
	runQ     []func()
	runBytes int  // payload bytes held by queued tasks
	running  bool // a drain goroutine exists
	paused   bool // the connection is not read until the runner catches up
	peak     int  // the longest queue seen (for tests)
}

// The runner's backlog that pauses reading the connection: a client that
// sends faster than its handlers run is slowed down by TCP instead of
// filling memory.
const (
	runHighWater      = 256
	runHighWaterBytes = 4 << 20
)

// scanSockets is how many sockets a client's lookup scans before it uses a
// map.
const scanSockets = 8

// socketFor returns the client's socket in namespace nsp, or nil. Every
// packet received looks its socket up, on the connection's reader: by a
// short scan, or by name in a map once the client has many sockets, since a
// client may join any number of dynamic namespaces (a scan of 40,000 took
// most of the reader's time).
func (c *client) socketFor(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byNsp != nil {
		return c.byNsp[nsp]
	}
	for _, s := range c.sockets {
		if s != nil && s.nsp.name == nsp {
			return s
		}
	}
	return nil
}

// liveSocketsLocked returns a copy of the client's sockets, in connection
// order; c.mu held.
func (c *client) liveSocketsLocked() []*Socket {
	live := make([]*Socket, 0, len(c.sockets)-int(c.holes))
	for _, s := range c.sockets {
		if s != nil {
			live = append(live, s)
		}
	}
	return live
}

func (c *client) removeSocket(s *Socket) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byNsp != nil && c.byNsp[s.nsp.name] == s {
		delete(c.byNsp, s.nsp.name)
	}
	if int(s.slot) >= len(c.sockets) || c.sockets[s.slot] != s {
		return // not the client's (any more)
	}
	c.sockets[s.slot] = nil
	c.holes++
	if int(c.holes)*2 < len(c.sockets) {
		return
	}
	n := 0
	for _, x := range c.sockets {
		if x != nil {
			x.slot = int32(n)
			c.sockets[n] = x
			n++
		}
	}
	clear(c.sockets[n:])
	c.sockets, c.holes = c.sockets[:n], 0
}

// run queues f on the client's runner.
func (c *client) run(f func()) { c.runSized(f, 0) }

// runSized queues f, which holds size bytes of payload, pausing the
// connection's reading when the backlog reaches the high-water mark.
func (c *client) runSized(f func(), size int) {
	c.runMu.Lock()
	c.runQ = append(c.runQ, f)
	c.runBytes += size
	c.peak = max(c.peak, len(c.runQ))
	if !c.paused && (len(c.runQ) >= runHighWater || c.runBytes >= runHighWaterBytes) {
		// Under runMu, so that a pause and the resume that ends it reach
		// the session in the order they were decided (the calls don't block).
		c.paused = true
		c.sess.PauseReading()
	}
	start := !c.running
	c.running = true
	c.runMu.Unlock()
	if start {
		go c.drain()
	}
}

// drain runs the queued tasks, taking the whole backlog at a time; taking it
// resumes reading if it was paused.
func (c *client) drain() {
	for {
		c.runMu.Lock()
		q := c.runQ
		c.runQ, c.runBytes = nil, 0
		if len(q) == 0 {
			c.running = false
			c.runMu.Unlock()
			return
		}
		if c.paused {
			c.paused = false
			c.sess.ResumeReading()
		}
		c.runMu.Unlock()
		for i, f := range q {
			c.safely(f)
			q[i] = nil
		}
	}
}

func (c *client) safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("socketio: handler panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// send encodes p and queues it on the connection.
func (c *client) send(p *parser.Packet, opts engineio.SendOptions) error {
	return c.sendEncoded(encode(p), opts)
}

// sendEncoded queues Engine.IO packets on the connection in one step.
func (c *client) sendEncoded(pkts []*engineio.Packet, opts engineio.SendOptions) error {
	if err := c.sess.Send(opts, pkts...); err != nil {
		if errors.Is(err, engineio.ErrSessionClosed) {
			return ErrDisconnected
		}
		return err
	}
	return nil
}

// closeConn closes the connection for a reason of the client's making (a
// malformed packet, a packet out of place, no CONNECT in time), as Node
// does: what is queued still goes out, then the close (over polling, the
// client's next poll gets the close packet).
func (c *client) closeConn(reason engineio.CloseReason, err error) {
	c.sess.CloseWith(reason, err)
}

// onMessage decodes one Engine.IO message; runs on the connection's reader.
func (c *client) onMessage(data []byte, binary bool) {
	var p *parser.Packet
	var err error
	if binary {
		p, err = c.dec.DecodeBinary(data)
	} else {
		p, err = c.dec.DecodeText(data)
	}
	if err != nil {
		c.closeConn(engineio.ReasonParseError, err)
		return
	}
	if p == nil {
		return // waiting for binary attachments
	}
	s := c.socketFor(p.Namespace)
	switch {
	case p.Type == parser.Connect && (s == nil || s.closing()):
		// A socket that is disconnecting (its teardown queued on the
		// runner) does not stand in the way: the new CONNECT runs after
		// that teardown, as socket.disconnect().connect() expects.
		c.mu.Lock()
		for _, n := range c.connecting {
			if n == p.Namespace {
				// The official client sends CONNECT again when connect() is
				// called before the reply; Node keeps the connection (and
				// connects a second socket). Ignored: the reply to the
				// first is the answer to both.
				c.mu.Unlock()
				return
			}
		}
		c.connecting = append(c.connecting, p.Namespace)
		c.mu.Unlock()
		c.run(func() { c.connect(p.Namespace, p.Data) })
	case s == nil || p.Type == parser.Connect || p.Type == parser.ConnectError:
		c.invalidState(p)
	case p.Type == parser.Ack || p.Type == parser.BinaryAck:
		s.onAck(p)
	case p.Type == parser.Event || p.Type == parser.BinaryEvent:
		if !s.connected.Load() {
			return // after a DISCONNECT: dropped (Node drops it, or closes the connection)
		}
		size := len(p.Data)
		for _, a := range p.Attachments {
			size += len(a)
		}
		c.runSized(func() { s.onEvent(p) }, size)
	case p.Type == parser.Disconnect:
		s.close(ReasonClientNamespaceDisconnect)
	}
}

// invalidState closes a client that sent a packet that makes no sense now
// (Node's "invalid state").
func (c *client) invalidState(p *parser.Packet) {
	c.closeConn(engineio.ReasonForcedClose, fmt.Errorf("socketio: unexpected %s packet for namespace %q", p.Type, p.Namespace))
}

// connect runs the namespace's middlewares and connects a socket; on the
// runner. The "connecting" mark is cleared before the reply is sent, so a
// client may retry as soon as it reads a refusal.
func (c *client) connect(name string, auth []byte) {
	refuse := func(payload []byte) {
		c.doneConnecting(name)
		_ = c.send(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: payload}, 0)
	}
	if c.atNamespaceLimit() { // before a dynamic namespace is made for it
		refuse([]byte(`{"message":"Too many namespaces"}`))
		return
	}
	nsp := c.srv.lookupNamespace(name, auth)
	if nsp == nil {
		refuse([]byte(`{"message":"Invalid namespace"}`))
		return
	}
	s := &Socket{id: newID(), nsp: nsp, client: c, hs: newHandshake(c.sess.Request(), auth)}
	if mws := nsp.allMiddlewares(); len(mws) > 0 {
		// The client's close ends the socket's Context while it is vetted.
		c.mu.Lock()
		if c.closed {
			c.removeConnectingLocked(name)
			c.mu.Unlock()
			return // nobody to vet it for
		}
		c.vetting = s
		c.mu.Unlock()
		for _, mw := range mws {
			if err := c.callMiddleware(mw, s); err != nil {
				c.mu.Lock()
				c.vetting = nil
				c.mu.Unlock()
				s.end(fmt.Errorf("%w: refused: %w", ErrDisconnected, err))
				refuse(connectErrorPayload(err))
				return
			}
		}
	}
	c.mu.Lock()
	c.vetting = nil
	c.removeConnectingLocked(name)
	if c.closed {
		c.mu.Unlock()
		return // the close ended its Context
	}
	s.slot = int32(len(c.sockets))
	c.sockets = append(c.sockets, s)
	switch {
	case c.byNsp != nil:
		c.byNsp[name] = s
	case len(c.sockets)-int(c.holes) > scanSockets:
		c.byNsp = make(map[string]*Socket, 2*len(c.sockets))
		for _, x := range c.sockets {
			if x != nil {
				c.byNsp[x.nsp.name] = x
			}
		}
	}
	// Connected in the same step as it joins the client: a close of the
	// connection from now on finds it connected and tears it down.
	s.connected.Store(true)
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	c.mu.Unlock()
	if hook := testHookConnectJoined.Load(); hook != nil {
		(*hook)(c)
	}
	for !nsp.add(s) { // a dynamic namespace emptied and cleaned up meanwhile: a fresh one
		if nsp.parent != nil {
			nsp.parent.drop(nsp)
		}
		if nsp = c.srv.lookupNamespace(name, auth); nsp == nil {
			s.connected.Store(false)
			s.end(&DisconnectError{Reason: ReasonServerNamespaceDisconnect})
			c.removeSocket(s)
			_ = c.send(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: []byte(`{"message":"Invalid namespace"}`)}, 0)
			return
		}
		s.nsp = nsp
	}
	s.joinOnConnect()
	data := make([]byte, 0, 32)
	data = append(data, `{"sid":`...)
	data = parser.AppendString(data, s.id)
	data = append(data, '}')
	// Reachable before the reply can be read (a client that has its reply
	// is in every later broadcast), yet nothing overtakes the reply:
	// operations that select the socket meanwhile wait for it (awaitReply).
	s.replyMu.Lock()
	if !s.connected.Load() {
		// The connection closed meanwhile: no reply and, as in Node, no
		// "connection" (the teardown is queued). Once the reply is sent,
		// the handlers run whatever the client does next.
		s.replyMu.Unlock()
		return
	}
	s.ready.Store(true)
	_ = c.send(&parser.Packet{Type: parser.Connect, Namespace: name, Data: data}, 0)
	s.replied.Store(true)
	s.replyMu.Unlock()
	for _, fn := range nsp.connectionHandlers() {
		s.callConnection(fn)
	}
}

// atNamespaceLimit reports whether the client is connected to
// Options.MaxNamespacesPerClient namespaces. On the runner: the teardowns
// of the sockets disconnected before are done (they run there too), and
// the CONNECTs queued after this one have not joined yet.
func (c *client) atNamespaceLimit() bool {
	if c.srv.maxNamespaces < 0 {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sockets)-int(c.holes) >= c.srv.maxNamespaces
}

// testHookConnectJoined runs in connect once the socket has joined its
// client, before it joins the namespace (tests only).
var testHookConnectJoined atomic.Pointer[func(c *client)]

func (c *client) doneConnecting(name string) {
	c.mu.Lock()
	c.removeConnectingLocked(name)
	c.mu.Unlock()
}

func (c *client) removeConnectingLocked(name string) {
	for i, n := range c.connecting {
		if n == name {
			c.connecting = append(c.connecting[:i], c.connecting[i+1:]...)
			return
		}
	}
}

// errMiddlewarePanicked is what the client of a connection middleware that
// panicked is told: the panic itself goes to the log only.
var errMiddlewarePanicked = &ConnectError{Message: "internal server error"}

func (c *client) callMiddleware(mw Middleware, s *Socket) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("socketio: connection middleware panicked", "nsp", s.nsp.name, "panic", r, "stack", string(debug.Stack()))
			err = errMiddlewarePanicked
		}
	}()
	return mw(s.Context(), s)
}

// disconnectAll disconnects every socket of the client, then closes the
// connection once the DISCONNECT packets are written.
func (c *client) disconnectAll() {
	c.mu.Lock()
	sockets := c.liveSocketsLocked()
	c.mu.Unlock()
	for _, s := range sockets {
		s.disconnect()
	}
	c.sess.Close()
}

// onClose handles the end of the connection.
func (c *client) onClose(reason engineio.CloseReason) {
	c.mu.Lock()
	c.closed = true
	if c.connectTimer != nil {
		c.connectTimer.Stop()
		c.connectTimer = nil
	}
	sockets := c.liveSocketsLocked()
	vetting := c.vetting
	c.mu.Unlock()
	r := reasonFromEngine(reason)
	if vetting != nil {
		vetting.end(&DisconnectError{Reason: r})
	}
	for _, s := range sockets {
		s.close(r)
	}
	c.run(c.srv.clients.Done)
}
