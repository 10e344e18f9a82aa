// Package wsconn is the WebSocket seam of the Engine.IO server: the handshake,
// frame decoding, a write path built for broadcasts, and the I/O model.
//
// On Linux, plain TCP connections leave the Go runtime's poller after the
// handshake and are watched by the Engine's own epoll loops, so an idle
// connection costs no goroutine and no buffer. Other connections (TLS, other
// systems) use one reader goroutine each. Writes never block the caller:
// frames are queued (bounded) and written by the caller when the connection
// is idle and asked to (Send with direct), or by the Engine's flusher
// goroutines, which coalesce every queued frame of a connection into one
// writev.
//
// The WebSocket library (github.com/gobwas/ws) is used only here, for the
// HTTP upgrade and payload unmasking; nothing outside this package sees it.
package wsconn

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Handler receives a connection's events. Calls for one connection are never
// concurrent and arrive in order; OnClose is the last call. Handlers run on
// the Engine's poller goroutines: they must not block.
type Handler interface {
	// OnMessage receives one complete message. data is valid only during the call.
	OnMessage(c *Conn, data []byte, binary bool)
	// OnClose reports that the connection is closed for reading, with the cause:
	// a *CloseError when the peer sent a close frame, or another error.
	OnClose(c *Conn, err error)
}

// Errors reported by Conn methods and to Handler.OnClose.
var (
	ErrClosed       = errors.New("wsconn: connection closed")
	ErrSlowConsumer = errors.New("wsconn: send queue limit exceeded (slow consumer)")
	ErrClosedByUs   = errors.New("wsconn: connection closed by the server")
	ErrTimeout      = errors.New("wsconn: peer did not complete the close handshake in time")
)

// CloseError is the peer's close frame.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("wsconn: closed by peer (%d %s)", e.Code, e.Reason)
}

type connState uint8

const (
	stateOpen    connState = iota
	stateClosing           // close frame queued or sent; draining writes, waiting for the peer
	stateClosed            // no more I/O
)

// Conn is a server-side WebSocket connection. Its methods are safe for
// concurrent use.
type Conn struct {
	// The write side, first and together: a broadcast touches these of
	// every recipient (Enqueue, then the flusher's nextBatch, sendmsg and
	// wrote), so they share the first cache line of the struct.
	mu        sync.Mutex
	state     connState
	writing   bool     // a goroutine owns the write side
	waitOut   bool     // the writer gave up on EAGAIN; EPOLLOUT resumes it
	outEdge   bool     // EPOLLOUT seen while no writer waited
	shutWr    bool     // our close frame is written and the write side shut
	notified  bool     // OnClose was called
	deflate   bool     // per-message deflate negotiated (fixed after Upgrade)
	queue     [][]byte // frames waiting to be written, in order
	queued    int      // bytes in queue, each frame counted with frameOverhead
	maxQueued int
	fd        int // netpoll mode: the descriptor; -1 in goroutine mode

	// ioMu guards the descriptor's lifetime in netpoll mode: syscalls hold it
	// shared, the final close holds it exclusively, so a descriptor number is
	// never used after it may have been reused.
	ioMu     sync.RWMutex
	fdClosed bool
	loop     *loop // netpoll mode: the owning loop; nil in goroutine mode
	eng      *Engine

	h  Handler
	nc net.Conn // goroutine mode: the connection; nil in netpoll mode

	paused  atomic.Bool   // reading is paused (backpressure from the handler)
	inRead  atomic.Bool   // netpoll mode: the loop is reading or handling this connection's bytes
	resumeC chan struct{} // goroutine mode: signalled on resume

	rd frameReader // touched only by the reader side

	closeCause error
	linger     *time.Timer
}

// Send queues frames (complete frames, e.g. from AppendFrame) to be written in
// order, atomically with respect to other Sends. The slices are not modified
// and may be shared with other connections. With direct set and nothing else
// queued, the calling goroutine writes at once, without blocking; otherwise a
// flusher goroutine writes, coalescing with whatever else is queued. When the
// queue would exceed Options.MaxQueuedBytes the connection is closed with
// ErrSlowConsumer.
func (c *Conn) Send(direct bool, frames ...[]byte) error {
	start, err := c.Enqueue(frames...)
	if start {
		c.startWrite(direct)
	}
	return err
}

// Enqueue queues frames like Send but starts no writer: when it returns
// true the caller must hand the connection to Engine.Flush (directly or in
// a batch with others). Broadcasts use it to schedule all their recipients
// at once.
func (c *Conn) Enqueue(frames ...[]byte) (bool, error) {
	n := 0
	for _, f := range frames {
		n += len(f) + frameOverhead
	}
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return false, ErrClosed
	}
	if c.queued+n > c.maxQueued && c.queued > 0 {
		c.mu.Unlock()
		c.Abort(ErrSlowConsumer)
		return false, ErrSlowConsumer
	}
	c.queue = append(c.queue, frames...)
	c.queued += n
	if c.writing {
		c.mu.Unlock()
		return false, nil
	}
	c.writing = true
	c.mu.Unlock()
	return true, nil
}

// Flush hands connections returned by Enqueue to their writers: the
// flusher goroutines for netpoll connections (in one batch), a writer
// goroutine each otherwise.
func (e *Engine) Flush(conns []*Conn) {
	n := 0
	for _, c := range conns {
		if c.loop == nil {
			go c.flushBlocking()
			continue
		}
		conns[n] = c
		n++
	}
	e.flusher.scheduleMany(conns[:n])
}

func (c *Conn) startWrite(direct bool) {
	switch {
	case c.loop == nil:
		go c.flushBlocking()
	case direct:
		c.flush()
	default:
		c.eng.flusher.schedule(c)
	}
}

// PauseReading stops reading the connection (the peer's writes then pile
// up in the kernel and TCP slows it down) until ResumeReading. Messages
// already read are still delivered. Safe to call from the Handler.
func (c *Conn) PauseReading() { c.paused.Store(true) }

// ResumeReading resumes reading after PauseReading.
func (c *Conn) ResumeReading() {
	if !c.paused.CompareAndSwap(true, false) {
		return
	}
	if c.loop != nil {
		c.loop.resume(c)
		return
	}
	select {
	case c.resumeC <- struct{}{}:
	default:
	}
}

func (c *Conn) readPaused() bool { return c.paused.Load() }

// Unread reports whether the peer has sent bytes that the handler has not
// seen the end of yet: bytes waiting in the socket, or bytes the loop is
// reading and handling at this moment. The peer is alive then, even if the
// reader is behind (a server short of CPU), and whatever it sent before the
// caller's own request is on its way to the handler. Only known for netpoll
// connections; false otherwise.
func (c *Conn) Unread() bool {
	if c.loop == nil {
		return false
	}
	return c.loop.unread(c)
}

// feedPending delivers the frames left pending by a pause. Reader side.
func (c *Conn) feedPending() {
	if len(c.rd.pending) > 0 && !c.rd.closed && !c.readPaused() {
		if err := c.rd.feed(nil, sink{c}); err != nil {
			c.readFailed(err)
		}
	}
}

// frameOverhead is what a queued frame costs beyond its bytes: its slot in
// the queue (a slice header) and the allocator's rounding of a small frame.
// Counting it keeps the queue's bound a bound on memory when the frames are
// tiny: a client that floods pings and reads nothing gets a 2-byte pong for
// each, 30 bytes of memory apiece, which counted as 2 let one connection
// hold 15 times MaxQueuedBytes.
const frameOverhead = 32

// Compressed reports whether per-message deflate was negotiated: frames
// from AppendCompressedFrame may then be sent.
func (c *Conn) Compressed() bool { return c.deflate }

// QueuedBytes returns the number of bytes waiting to be written, each frame
// counted with a small overhead (see frameOverhead); 0 when none wait.
func (c *Conn) QueuedBytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.queued
}

// takeQueue hands the queued frames to the writer; producers start a new
// queue meanwhile. Called with c.mu held.
func (c *Conn) takeQueue() [][]byte {
	bufs := c.queue
	c.queue = nil
	return bufs
}

// recycle reuses a written queue's small backing array as the next queue if
// nothing was queued meanwhile, so an idle connection keeps at most one
// small array. Called with c.mu held.
func (c *Conn) recycle(bufs [][]byte) {
	clear(bufs)
	if c.queue == nil && cap(bufs) <= 4 {
		c.queue = bufs[:0]
	}
}

// consume drops n written bytes from the front of bufs.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs[0] = nil
		bufs = bufs[1:]
	}
	if n > 0 && len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}

// afterDrain runs when the queue is empty and the writer is done. Called with
// c.mu held; it returns a func to run after unlocking (or nil).
func (c *Conn) afterDrain() func() {
	c.writing = false
	if c.state == stateClosing && !c.shutWr {
		c.shutWr = true
		return c.shutdownWrite
	}
	return nil
}

// Close starts the closing handshake: frames already queued are written,
// then a close frame with code and reason, then the connection waits up to a
// second for the peer's close before releasing it. Handler.OnClose follows.
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	if c.state != stateOpen {
		c.mu.Unlock()
		return
	}
	c.state = stateClosing
	if c.closeCause == nil {
		c.closeCause = ErrClosedByUs
	}
	f := closeFrame(code, reason)
	c.queue = append(c.queue, f)
	c.queued += len(f) + frameOverhead
	c.linger = time.AfterFunc(time.Second, func() { c.Abort(ErrTimeout) })
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		c.startWrite(false)
	}
	c.ResumeReading() // to see the peer's close; messages are dropped from now on
}

// Abort closes the connection at once, dropping queued frames.
// Handler.OnClose follows with cause (unless an earlier cause was recorded).
func (c *Conn) Abort(cause error) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.mu.Unlock()
		return
	}
	c.state = stateClosed
	if c.closeCause == nil {
		c.closeCause = cause
	}
	clear(c.queue)
	c.queue, c.queued = nil, 0
	if c.linger != nil {
		c.linger.Stop()
	}
	c.mu.Unlock()
	c.shutdownBoth()
}

// sink: called by the frame reader on the reader side.

type sink struct{ c *Conn }

func (s sink) message(data []byte, binary bool) {
	if s.c.isOpenForReading() {
		s.c.h.OnMessage(s.c, data, binary)
	}
}

func (s sink) paused() bool { return s.c.readPaused() }

func (s sink) control(op byte, payload []byte) {
	c := s.c
	switch op {
	case opPing:
		_ = c.Send(true, appendFrame(nil, opPong, payload))
	case opClose:
		code, reason := CloseNoStatus, ""
		if len(payload) >= 2 {
			code = int(payload[0])<<8 | int(payload[1])
			reason = string(payload[2:])
		}
		c.mu.Lock()
		if c.closeCause == nil {
			c.closeCause = &CloseError{Code: code, Reason: reason}
		}
		c.mu.Unlock()
		// Echo the close (RFC 6455 §5.5.1); Close is a no-op if we started it.
		echo := code
		if echo == CloseNoStatus {
			echo = CloseNormal
		}
		c.Close(echo, "")
		c.notifyClose()
	}
}

func (c *Conn) isOpenForReading() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == stateOpen && !c.notified
}

// readFailed handles a protocol error or end of stream seen by the reader.
func (c *Conn) readFailed(err error) {
	c.rd.closed = true
	var pe *protocolError
	if errors.As(err, &pe) {
		c.mu.Lock()
		if c.closeCause == nil {
			c.closeCause = err
		}
		c.mu.Unlock()
		c.Close(pe.Code, "")
		c.notifyClose()
		return
	}
	c.Abort(err)
}

// notifyClose calls Handler.OnClose once. Called on the reader side.
func (c *Conn) notifyClose() {
	c.mu.Lock()
	if c.notified {
		c.mu.Unlock()
		return
	}
	c.notified = true
	cause := c.closeCause
	c.mu.Unlock()
	if cause == nil {
		cause = ErrClosed
	}
	c.h.OnClose(c, cause)
}
