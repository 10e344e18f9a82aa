package engineio

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/engineio/internal/wsconn"
	"switchboard/engineio/parser"
)

// CloseReason says why a session closed, in Node's words.
type CloseReason string

// The reasons a session closes.
const (
	ReasonTransportClose CloseReason = "transport close"      // the client closed the connection or sent a close packet
	ReasonTransportError CloseReason = "transport error"      // a transport failed (network error, overlap, slow consumer…)
	ReasonPingTimeout    CloseReason = "ping timeout"         // no pong within PingTimeout
	ReasonParseError     CloseReason = "parse error"          // the client sent a malformed packet
	ReasonForcedClose    CloseReason = "forced close"         // the server closed the session (Session.Close)
	ReasonServerShutdown CloseReason = "server shutting down" // Server.Close
)

// Request describes the HTTP request that opened a session.
type Request struct {
	// Header holds the request's headers, except those of the WebSocket
	// handshake itself (Upgrade, Connection, Sec-WebSocket-*), which mean
	// nothing once the connection is open.
	Header http.Header
	// RequestURI is the unmodified request target ("/socket.io/?EIO=4&…").
	RequestURI string
	// Host is the request's Host (http.Request.Host).
	Host string
	// RemoteAddr is the client's address, host:port (http.Request's; a
	// proxy's when behind one).
	RemoteAddr string
	// TLS reports a request over TLS.
	TLS bool
	// Time is when the session opened.
	Time time.Time
}

// URL parses RequestURI (the session keeps the string, not the parsed URL);
// an empty URL if it cannot be parsed.
func (r *Request) URL() *url.URL {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return &url.URL{}
	}
	return u
}

// handshakeHeaders are dropped from Request.Header after a WebSocket upgrade.
var handshakeHeaders = map[string]bool{
	"Upgrade": true, "Connection": true,
	"Sec-Websocket-Key": true, "Sec-Websocket-Version": true,
	"Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true,
}

// sessionHeader returns the headers a session keeps for its lifetime: a
// compact copy of h (nil if empty) — for a WebSocket handshake without the
// handshake's own headers. All values share one string and one slice
// backing array, so the request's own header storage (a string per value,
// its slices) is not kept alive by a long-lived connection.
func sessionHeader(h http.Header, websocket bool) http.Header {
	var kept [32]string
	keys := kept[:0]
	values, size := 0, 0
	for k, v := range h {
		if websocket && handshakeHeaders[k] {
			continue
		}
		keys = append(keys, k)
		values += len(v)
		for _, s := range v {
			size += len(s)
		}
	}
	if len(keys) == 0 {
		return nil // reads on a nil Header work
	}
	var b strings.Builder
	b.Grow(size)
	for _, k := range keys {
		for _, s := range h[k] {
			b.WriteString(s)
		}
	}
	all := b.String()
	strs := make([]string, 0, values)
	out := make(http.Header, len(keys))
	off := 0
	for _, k := range keys {
		first := len(strs)
		for _, s := range h[k] {
			strs = append(strs, all[off:off+len(s)])
			off += len(s)
		}
		out[k] = strs[first:len(strs):len(strs)]
	}
	return out
}

// SendOptions modify Session.Send.
type SendOptions uint8

const (
	// Volatile drops the packets when the transport cannot take them at once
	// (no pending poll, or WebSocket frames still queued).
	Volatile SendOptions = 1 << iota
	// Deferred leaves the WebSocket write to the server's flusher goroutines
	// instead of the calling goroutine: use it when sending one packet to many
	// sessions, so the writes run in parallel and coalesce.
	Deferred
	// Uncompressed sends the packets without compression (Node's
	// compress: false), for data that does not compress, such as images:
	// their WebSocket frames stay plain under per-message deflate, and a
	// long-polling response made only of such packets is not compressed
	// (one with any other packet is, as in Node). Packets queued while the
	// session upgrades go out on the WebSocket plain only if all of them
	// were sent Uncompressed.
	Uncompressed
)

type sessionState uint8

const (
	stateOpen sessionState = iota
	stateClosed
)

// Session is one Engine.IO client session, over polling or WebSocket. Its
// methods are safe for concurrent use.
type Session struct {
	srv *Server
	id  string
	req Request

	user atomic.Value // set by the Handler

	// Lock-free view for the send path: the WebSocket once the session is
	// on one, and whether the session is closed.
	wsc    atomic.Pointer[wsconn.Conn]
	closed atomic.Bool

	mu        sync.Mutex
	state     sessionState
	transport string
	queue     []*Packet // polling, and WebSocket-bound packets while upgrading
	queued    int
	reason    CloseReason
	closeErr  error
	final     *Packet // what ends the last poll after close: close or noop
	draining  bool    // closed, but the last poll has not fetched the queue yet
	compress  bool    // a packet in queue was sent without Uncompressed

	// polling
	pollWake chan struct{}
	polling  bool // a GET is waiting
	posting  bool // a POST is being processed
	// postRC reaches the connection of the POST being read, to cut the
	// body's reading short when the session ends (see abortPostLocked).
	postRC *http.ResponseController

	// websocket
	ws           *wsconn.Conn
	wsB64        atomic.Bool // binary messages go out on ws as "b"+base64 text frames (b64=1)
	probe        *wsconn.Conn
	probeB64     bool // the probe's request asked for b64
	probing      int  // upgrade handshakes being answered, not yet probe
	probed       bool
	upgraded     bool
	upgradeTimer *time.Timer

	// backpressure from the Handler (PauseReading)
	readPaused bool
	resumed    chan struct{} // closed on resume; polling POSTs wait on it

	// heartbeat
	hb         *time.Timer
	awaitPong  bool
	pingDue    time.Time     // when the next ping is due (the interval timer's target)
	pongBy     time.Time     // deadline of the awaited pong
	received   atomic.Uint64 // packets received: any traffic proves the client alive
	recvAtPing uint64        // received when the awaited ping was sent

	// Handler calls are serialized by recvMu; OnClose is delivered by
	// whoever holds it last (see finishClose).
	recvMu        sync.Mutex
	closePending  atomic.Bool
	handlerClosed bool
}

// ID returns the session id (20 URL-safe characters). It is a secret shared
// with the client: do not expose it to other clients.
func (s *Session) ID() string { return s.id }

// Request returns the request that opened the session; do not modify it.
func (s *Session) Request() *Request { return &s.req }

// Transport returns the current transport name: TransportPolling until
// an upgrade completes, then TransportWebSocket.
func (s *Session) Transport() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// SetUserData attaches a value for the Handler (typically its per-session
// state), replacing the previous one.
func (s *Session) SetUserData(v any) { s.user.Store(&v) }

// UserData returns the value given to SetUserData, or nil.
func (s *Session) UserData() any {
	if p, ok := s.user.Load().(*any); ok {
		return *p
	}
	return nil
}

// Send queues packets for the client, in order; the packets of one call are
// never interleaved with another's. It never blocks on the network. It
// returns ErrSessionClosed once the session is closed.
func (s *Session) Send(opts SendOptions, packets ...*Packet) error {
	return s.send(opts, packets, nil)
}

func (s *Session) send(opts SendOptions, packets []*Packet, b *Batch) error {
	if conn := s.wsc.Load(); conn != nil { // the WebSocket fast path: no session lock
		return s.sendWS(conn, opts, packets, b)
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	if conn := s.ws; conn != nil { // upgraded meanwhile
		s.mu.Unlock()
		return s.sendWS(conn, opts, packets, b)
	}
	if opts&Volatile != 0 && !s.polling {
		s.mu.Unlock()
		return nil
	}
	n := 0
	for _, p := range packets {
		n += p.size()
	}
	if s.queued+n > s.srv.cfg.MaxQueuedBytes && s.queued > 0 {
		s.mu.Unlock()
		s.closeWith(ReasonTransportError, wsconn.ErrSlowConsumer, false)
		return ErrSessionClosed
	}
	s.queue = append(s.queue, packets...)
	s.queued += n
	if opts&Uncompressed == 0 {
		s.compress = true
	}
	s.wakePollLocked()
	s.mu.Unlock()
	return nil
}

func (s *Session) sendWS(conn *wsconn.Conn, opts SendOptions, packets []*Packet, b *Batch) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	if opts&Volatile != 0 && conn.QueuedBytes() > 0 {
		return nil
	}
	b64 := s.wsB64.Load()
	d := s.srv.cfg.PerMessageDeflate
	if opts&Uncompressed != 0 {
		d = nil
	}
	// The frame list stays on the stack (arr) for up to 4 packets: it is
	// never stored, so that it does not escape — a heap allocation per
	// recipient of every broadcast cost the flood scenario 60% more CPU.
	// More packets take a pooled list (big), a separate variable for the
	// same reason.
	var arr [4][]byte
	switch {
	case b != nil && len(packets) > 1: // a broadcast of several packets: one shared buffer
		arr[0] = b.joinedFrames(packets, conn, d, b64)
		return s.queueFrames(conn, opts, b, arr[:1])
	case len(packets) <= len(arr):
		frames := arr[:0]
		for _, p := range packets {
			frames = append(frames, p.wsFrameFor(conn, d, b64))
		}
		return s.queueFrames(conn, opts, b, frames)
	}
	pooled := framePool.Get().(*[][]byte)
	big := (*pooled)[:0]
	for _, p := range packets {
		big = append(big, p.wsFrameFor(conn, d, b64))
	}
	err := s.queueFrames(conn, opts, b, big)
	clear(big) // the connection's queue has copied the list
	*pooled = big[:0]
	framePool.Put(pooled)
	return err
}

// queueFrames queues frames on conn: in the batch b, or sent at once unless
// opts defers it.
func (s *Session) queueFrames(conn *wsconn.Conn, opts SendOptions, b *Batch, frames [][]byte) error {
	var err error
	if b != nil {
		var start bool
		if start, err = conn.Enqueue(frames...); start {
			b.add(conn)
		}
	} else {
		err = conn.Send(opts&Deferred == 0, frames...)
	}
	if errors.Is(err, wsconn.ErrClosed) || errors.Is(err, wsconn.ErrSlowConsumer) {
		return ErrSessionClosed // a full queue closed it (ReasonTransportError)
	}
	return err
}

// framePool holds the frame lists of sends of more packets than sendWS
// keeps on its stack; the connection's queue copies them.
var framePool = sync.Pool{New: func() any { return new([][]byte) }}

func (s *Session) wakePollLocked() {
	if s.polling {
		select {
		case s.pollWake <- struct{}{}:
		default:
		}
	}
}

// PauseReading asks the transport to stop reading the client's packets
// until ResumeReading, for backpressure when the Handler falls behind: a
// WebSocket stops being read (TCP slows the client down), a polling POST's
// body stops being decoded, and it is answered only on resume. The
// heartbeat does not time the client out while reading is paused. Safe to
// call from OnMessage.
func (s *Session) PauseReading() {
	s.mu.Lock()
	if s.readPaused || s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.readPaused = true
	// Under the lock, so that the WebSocket ends in the state the session
	// records when a ResumeReading runs concurrently (it does not block).
	if s.ws != nil {
		s.ws.PauseReading()
	}
	s.mu.Unlock()
}

// ResumeReading undoes PauseReading.
func (s *Session) ResumeReading() {
	s.mu.Lock()
	if !s.readPaused {
		s.mu.Unlock()
		return
	}
	s.readPaused = false
	if s.awaitPong && s.state == stateOpen {
		// Silence while we were not reading proves nothing: the client gets
		// a whole timeout from now to be heard. (Otherwise a heartbeat
		// firing just after the resume, before the reader has caught up
		// with what waited in the socket, would time the client out.)
		s.recvAtPing = s.received.Load()
		s.pongBy = time.Now().Add(s.srv.cfg.PingTimeout)
		s.hb.Reset(s.srv.cfg.PingTimeout)
	}
	if s.ws != nil { // under the lock: see PauseReading (it does not block)
		s.ws.ResumeReading()
	}
	ch := s.resumed
	s.resumed = nil
	s.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// waitResumed blocks a polling POST while reading is paused, until resumed,
// closed, or done ends.
func (s *Session) waitResumed(done <-chan struct{}) {
	s.mu.Lock()
	if !s.readPaused || s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	if s.resumed == nil {
		s.resumed = make(chan struct{})
	}
	ch := s.resumed
	s.mu.Unlock()
	select {
	case <-ch:
	case <-done:
	}
}

// Close closes the session from the server side: packets already queued are
// still delivered (over polling, to the next poll), then the transport
// closes. The Handler gets OnClose with ReasonForcedClose.
func (s *Session) Close() { s.closeWith(ReasonForcedClose, nil, true) }

// CloseWith closes the session as Close does — packets already queued are
// still delivered, a polling client's next poll gets the close packet — but
// OnClose hears reason and err: for a close decided on the client's
// account one layer up, such as a malformed Socket.IO packet (Node's
// socket.io closes the connection so, a polling client learning it from
// the close packet rather than an unknown session).
func (s *Session) CloseWith(reason CloseReason, err error) { s.closeWith(reason, err, true) }

// Abort closes the session at once with reason: packets queued for polling
// are dropped; a WebSocket writes the frames its connection already queued,
// then its close frame.
func (s *Session) Abort(reason CloseReason, err error) { s.closeWith(reason, err, false) }

// closeWith closes the session. With drain, queued packets are still
// delivered; otherwise they are dropped.
func (s *Session) closeWith(reason CloseReason, err error, drain bool) {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	s.closed.Store(true)
	s.reason, s.closeErr = reason, err
	if s.hb != nil {
		s.hb.Stop()
	}
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
	}
	probe, conn := s.probe, s.ws
	s.probe = nil
	if !drain {
		s.abortPostLocked()
	}
	if s.resumed != nil { // release POSTs waiting for a resume
		close(s.resumed)
		s.resumed = nil
	}
	keep := false
	if conn == nil { // polling
		s.final = s.srv.ctl.close
		if reason == ReasonTransportClose {
			s.final = s.srv.ctl.noop
		}
		if !drain {
			clear(s.queue)
			s.queue, s.queued = nil, 0
		}
		switch {
		case s.polling:
			s.wakePollLocked()
			keep = true // the waiting poll removes the session when it answers
		case drain:
			// The next poll fetches the queue, if any, then the close packet.
			// Even with the queue empty: a poll may have just taken it (the
			// client is between two polls), and Node answers the next poll
			// with the close packet, not an unknown session.
			keep = true
		case reason == ReasonTransportClose:
			// The client closed: a poll it sent at the same time as its close
			// packet ends with a noop instead of an error.
			keep = true
		}
		s.draining = keep
	}
	s.mu.Unlock()

	if probe != nil {
		probe.Close(wsconn.CloseNormal, "")
	}
	if conn != nil {
		conn.Close(wsconn.CloseNormal, "")
	}
	if keep {
		// Bound how long an absent client can keep a closed session around.
		time.AfterFunc(s.srv.cfg.PingTimeout+s.srv.cfg.PingInterval, s.release)
	} else {
		s.release()
	}
	s.closePending.Store(true)
	s.finishClose()
}

// release removes a closed session from the registry.
func (s *Session) release() {
	s.mu.Lock()
	s.abortPostLocked()
	s.draining = false
	clear(s.queue)
	s.queue, s.queued = nil, 0
	s.mu.Unlock()
	s.srv.sessions.remove(s)
}

// abortPostLocked ends the reading of a POST body in progress: its packets
// have nowhere to go once the session is over, and a client that sends its
// body slowly, or never, would otherwise hold the request (a goroutine, a
// connection, a buffer) for as long as it likes. The read fails at once and
// the POST is answered with an error. Called with s.mu held, which the POST
// holds too to clear postRC before it returns: the connection is never
// touched once it may serve another request.
func (s *Session) abortPostLocked() {
	if s.postRC != nil {
		_ = s.postRC.SetReadDeadline(time.Now())
		s.postRC = nil
	}
}

// open calls Handler.OnOpen. The session is already in the registry, so a
// close from another goroutine (Server.Close, a Session.Close) may start
// meanwhile: OnOpen holds recvMu like a message, so that OnClose is
// delivered after it returns, never during or before it.
func (s *Session) open() {
	s.recvMu.Lock()
	s.srv.handler.OnOpen(s)
	s.recvMu.Unlock()
	s.finishClose()
}

// deliver hands one message to the Handler.
func (s *Session) deliver(data []byte, binary bool) {
	s.recvMu.Lock()
	if !s.handlerClosed && !s.closePending.Load() {
		s.srv.handler.OnMessage(s, data, binary)
	}
	s.recvMu.Unlock()
	s.finishClose()
}

// finishClose calls Handler.OnClose exactly once, after any OnMessage in
// progress has returned. If another goroutine holds recvMu, that goroutine
// calls finishClose after releasing it, so nobody waits and a Close from
// inside OnMessage cannot deadlock.
func (s *Session) finishClose() {
	for s.closePending.Load() {
		if !s.recvMu.TryLock() {
			return
		}
		if s.closePending.CompareAndSwap(true, false) && !s.handlerClosed {
			s.handlerClosed = true
			s.mu.Lock()
			reason, err := s.reason, s.closeErr
			s.mu.Unlock()
			s.srv.handler.OnClose(s, reason, err)
		}
		s.recvMu.Unlock()
	}
}

// onPacket handles a packet from the session's active transport.
func (s *Session) onPacket(p parser.Packet) {
	s.received.Add(1)
	switch p.Type {
	case parser.Message:
		s.deliver(p.Data, p.Binary)
	case parser.Pong:
		s.onPong()
	case parser.Ping:
		s.closeWith(ReasonTransportError, errors.New("engineio: invalid heartbeat direction (client ping under EIO 4)"), false)
	case parser.Close:
		s.closeWith(ReasonTransportClose, nil, false)
	default:
		// open, upgrade and noop from a client mean nothing here: ignore
	}
}

// Heartbeat: one timer per session. It fires PingInterval after the open
// (or the last pong) to send a ping, then PingTimeout later to close.

func (s *Session) startHeartbeat() {
	s.mu.Lock()
	if s.state == stateOpen {
		s.pingDue = time.Now().Add(s.srv.cfg.PingInterval)
		s.hb = time.AfterFunc(s.srv.cfg.PingInterval, s.onHeartbeat)
	}
	s.mu.Unlock()
}

func (s *Session) onHeartbeat() {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	if s.awaitPong && time.Now().Before(s.pongBy) {
		// A stale firing: the deadline moved (ResumeReading) after this
		// timer fired but before it got the lock. Wait for the new one.
		s.hb.Reset(time.Until(s.pongBy))
		s.mu.Unlock()
		return
	}
	if s.awaitPong && (s.readPaused || s.received.Load() != s.recvAtPing) {
		// Not silent: packets arrived since the ping, or the pong may be
		// waiting unread behind a paused reader (backpressure). Wait on.
		s.recvAtPing = s.received.Load()
		s.pongBy = time.Now().Add(s.srv.cfg.PingTimeout)
		s.hb.Reset(s.srv.cfg.PingTimeout)
		s.mu.Unlock()
		return
	}
	if s.awaitPong {
		conn := s.ws
		s.mu.Unlock()
		if conn != nil && conn.Unread() {
			// The client did answer: its bytes wait in the socket because
			// the server is behind in reading (short of CPU). Timing it out
			// would only bring it back with a reconnection, adding load.
			s.mu.Lock()
			if s.state == stateOpen && s.awaitPong {
				s.recvAtPing = s.received.Load()
				s.pongBy = time.Now().Add(s.srv.cfg.PingTimeout)
				s.hb.Reset(s.srv.cfg.PingTimeout)
			}
			s.mu.Unlock()
			return
		}
		s.closeWith(ReasonPingTimeout, nil, false)
		return
	}
	s.awaitPong = true
	s.recvAtPing = s.received.Load()
	// The deadline counts from when the ping was due, not from when a
	// slightly late timer sent it: the client has PingInterval + PingTimeout
	// from the open or its last pong, whatever the timer's latency. But a
	// ping sent after the server stalled (the timer more than half of
	// PingTimeout late: a long pause, a starved machine) gets a whole
	// PingTimeout from now, as in Node: counted from when it was due, the
	// deadline would pass before the client could answer.
	now := time.Now()
	timeout := s.srv.cfg.PingTimeout
	s.pongBy = s.pingDue.Add(timeout)
	if now.Sub(s.pingDue) > timeout/2 {
		s.pongBy = now.Add(timeout)
	}
	s.hb.Reset(s.pongBy.Sub(now))
	s.mu.Unlock()
	_ = s.Send(0, s.srv.ctl.ping)
}

// pingOverdue reports that the pong deadline has passed, even if the timer
// has not fired yet (a loaded machine can delay it). Called with s.mu held.
func (s *Session) pingOverdue() bool {
	return s.awaitPong && !s.readPaused && s.received.Load() == s.recvAtPing && time.Now().After(s.pongBy)
}

func (s *Session) onPong() {
	s.mu.Lock()
	if s.awaitPong && s.state == stateOpen {
		s.awaitPong = false
		s.pingDue = time.Now().Add(s.srv.cfg.PingInterval)
		s.hb.Reset(s.srv.cfg.PingInterval)
	}
	s.mu.Unlock()
}
