package wsconn

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"
)

// Options configure an Engine. The zero value (or nil) means the defaults.
type Options struct {
	// MaxMessageSize is the largest message accepted; larger ones close the
	// connection with 1009. Default 1,000,000 bytes (Engine.IO's maxPayload).
	MaxMessageSize int64
	// MaxQueuedBytes bounds a connection's send queue; a Send beyond it closes
	// the connection with ErrSlowConsumer. Default 8 MiB.
	MaxQueuedBytes int
	// WriteTimeout bounds one blocking write in goroutine mode. Default 10 s.
	WriteTimeout time.Duration
	// Pollers is the number of epoll loops. Default GOMAXPROCS.
	Pollers int
	// Flushers is the number of flusher goroutines. Default GOMAXPROCS.
	Flushers int
	// DisableNetpoll forces goroutine mode for every connection.
	DisableNetpoll bool
	// Deflate offers per-message deflate (without context takeover) to
	// clients that ask for it.
	Deflate bool
	// Logger receives diagnostics. Default: discard.
	Logger *slog.Logger

	// blockingWait makes the epoll loops wait in epoll_wait, as they do
	// where Go's poller cannot take an epoll descriptor (tests use it).
	blockingWait bool
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.MaxMessageSize <= 0 {
		r.MaxMessageSize = 1_000_000
	}
	if r.MaxQueuedBytes <= 0 {
		r.MaxQueuedBytes = 8 << 20
	}
	if r.WriteTimeout <= 0 {
		r.WriteTimeout = 10 * time.Second
	}
	if r.Pollers <= 0 {
		r.Pollers = runtime.GOMAXPROCS(0)
	}
	if r.Flushers <= 0 {
		r.Flushers = runtime.GOMAXPROCS(0)
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	return r
}

// Engine owns the pollers and flushers shared by its connections. It is
// safe for concurrent use. Loops and flushers start with the first
// connection that needs them and stop at Close.
type Engine struct {
	opts    Options
	log     *slog.Logger
	flusher *flusher

	live atomic.Int64 // connections not yet released

	mu      sync.Mutex
	loops   []*loop
	next    int
	closed  bool
	started bool
}

// ErrEngineClosed is returned by Upgrade after Close.
var ErrEngineClosed = errors.New("wsconn: engine closed")

// NewEngine returns an Engine; nil opts means defaults.
func NewEngine(opts *Options) *Engine {
	o := opts.withDefaults()
	e := &Engine{opts: o, log: o.Logger}
	e.flusher = newFlusher(o.Flushers)
	return e
}

// Upgrade performs the WebSocket handshake on w and r, with the extra
// response headers h (may be nil), and takes the connection over. The Conn
// does not read until Start; frames may be sent before. On a handshake
// error the client has been answered and the connection closed.
func (e *Engine) Upgrade(w http.ResponseWriter, r *http.Request, h http.Header) (*Conn, error) {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return nil, ErrEngineClosed
	}
	up := ws.HTTPUpgrader{Timeout: e.opts.WriteTimeout, Header: h}
	var ext *wsflate.Extension
	if e.opts.Deflate {
		ext = deflateExtension()
		up.Negotiate = ext.Negotiate
	}
	nc, rw, _, err := up.Upgrade(r, w)
	if err != nil {
		if nc != nil {
			_ = nc.Close()
		}
		return nil, fmt.Errorf("wsconn: handshake: %w", err)
	}
	c := &Conn{
		eng:       e,
		fd:        -1,
		maxQueued: e.opts.MaxQueuedBytes,
	}
	c.rd.maxMessage = e.opts.MaxMessageSize
	if ext != nil {
		_, c.rd.deflate = ext.Accepted()
		c.deflate = c.rd.deflate
	}
	e.live.Add(1)
	if pre := buffered(rw); len(pre) > 0 {
		c.rd.pending = pre
	}
	if !e.opts.DisableNetpoll {
		if fd, ok := takeFD(nc); ok {
			l, err := e.pickLoop()
			if err != nil {
				_ = closeFD(fd)
				e.live.Add(-1)
				return nil, err
			}
			c.fd, c.loop = fd, l
			return c, nil
		}
	}
	c.nc = nc
	c.resumeC = make(chan struct{}, 1)
	return c, nil
}

func buffered(rw *bufio.ReadWriter) []byte {
	if rw == nil || rw.Reader == nil {
		return nil
	}
	n := rw.Reader.Buffered()
	if n == 0 {
		return nil
	}
	b := make([]byte, n)
	_, _ = io.ReadFull(rw.Reader, b)
	return b
}

// Start begins reading: h receives the connection's messages from now on.
func (c *Conn) Start(h Handler) {
	c.h = h
	if pre := c.rd.pending; len(pre) > 0 {
		c.rd.pending = nil
		if err := c.rd.feed(pre, sink{c}); err != nil {
			c.readFailed(err)
		}
	}
	if c.loop == nil {
		go c.readLoop()
		return
	}
	if err := c.loop.add(c); err != nil {
		c.Abort(err)
		c.notifyClose()
		c.loop.release(c)
	}
}

// readLoop is the reader goroutine of goroutine mode.
func (c *Conn) readLoop() {
	buf := make([]byte, 4096)
	for {
		for c.readPaused() {
			select {
			case <-c.resumeC:
			case <-time.After(100 * time.Millisecond): // re-check: closes also end the wait
			}
			c.mu.Lock()
			closed := c.state == stateClosed
			c.mu.Unlock()
			if closed {
				break
			}
		}
		c.feedPending()
		n, err := c.nc.Read(buf)
		if n > 0 && !c.rd.closed {
			if ferr := c.rd.feed(buf[:n], sink{c}); ferr != nil {
				c.readFailed(ferr)
			}
		}
		if err != nil {
			c.Abort(err)
			c.notifyClose()
			_ = c.nc.Close()
			c.eng.live.Add(-1)
			return
		}
	}
}

func (e *Engine) pickLoop() (*loop, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrEngineClosed
	}
	if !e.started {
		for i := 0; i < e.opts.Pollers; i++ {
			l, err := newLoop(e)
			if err != nil {
				for _, l := range e.loops {
					l.stop()
				}
				e.loops = nil
				return nil, err
			}
			e.loops = append(e.loops, l)
		}
		e.started = true
	}
	l := e.loops[e.next%len(e.loops)]
	e.next++
	return l, nil
}

// Live returns the number of connections not yet fully closed.
func (e *Engine) Live() int { return int(e.live.Load()) }

// Close stops the engine: every connection still open is aborted, then the
// pollers and flushers exit. It waits for them.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	loops := e.loops
	e.mu.Unlock()
	for _, l := range loops {
		l.stop()
	}
	e.flusher.stop()
	return nil
}
