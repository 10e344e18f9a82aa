package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// A worker holds a share of the connections, in this process or in a child process (see
// remote.go), and counts what they receive. Its methods are called by the coordinator in the
// order open, then any number of start → (send on worker 0) → wait rounds, then close.
type worker struct {
	mu     sync.Mutex
	conns  []client
	reader *epollReader // WebSocket connections past their handshakes, with Reader "epoll"

	received atomic.Int64 // chat messages received since the last start
	dropped  atomic.Int64 // connections that failed or were closed by the server
	closing  atomic.Bool  // set by close: failures after it are ours
	lastRecv atomic.Int64 // unix nanoseconds of the latest receipt since the last start
	hist     histogram    // latency of those receipts
	cpuStart time.Duration
}

type openReq struct {
	Addr     string        // server host:port
	Path     string        // request path with query, e.g. /socket.io/?EIO=4&transport=websocket
	Polling  bool          // HTTP long-polling instead of WebSocket (Path must say so)
	N        int           // connections to open
	Conc     int           // handshakes in flight at once
	Sources  []string      // local addresses to bind, used round-robin; empty: let the kernel pick
	First    int           // index of this worker's first connection, to spread the sources evenly
	Timeout  time.Duration // per connection, from dial to the Socket.IO connect packet
	Deadline time.Time     // the open phase gives up here
	Cookie   string        // Cookie header of the handshake requests ("" for none)
	Reader   string        // "epoll" (WebSocket on Linux: a few epoll loops read every connection) or "goroutine" (one per connection)
	Loops    int           // epoll loops, with Reader "epoll"
}

type openRes struct {
	Opened   int
	Failed   int
	FirstErr string
}

type startReq struct{}

type sendReq struct {
	M    int     // messages to send
	Rate float64 // messages per second; 0 sends as fast as the socket takes them
	Size int     // pad each message text to at least this many bytes
}

type sendRes struct {
	Sent     int
	Start    int64 // unix nanoseconds of the first send
	Duration time.Duration
	Err      string
}

type waitReq struct {
	Expected int64     // receipts to wait for on this worker
	Deadline time.Time // give up here
}

type waitRes struct {
	Received int64
	LastRecv int64 // unix nanoseconds
	Hist     map[int]int64
	CPU      time.Duration // this process's CPU time since start
	Dropped  int64         // connections lost so far (failed or closed by the server)
}

var (
	eioOpenPrefix = []byte("0{")
	sioConnect    = []byte("40")
	chatPrefix    = []byte(`42["chat message",`)
	messageKey    = []byte(`"message":"`)
	eioPing       = []byte("2")
	eioPong       = []byte("3")
)

// open opens req.N connections, each through the Engine.IO and Socket.IO handshakes, with at
// most req.Conc handshakes in flight. Every opened connection then is read by an epoll loop, or
// keeps a goroutine reading it (req.Reader).
func (w *worker) open(req openReq) openRes {
	conc := max(req.Conc, 1)
	sem := make(chan struct{}, conc)
	var (
		wg       sync.WaitGroup
		failed   atomic.Int64
		errOnce  sync.Once
		firstErr string
	)
	var reader *epollReader
	if req.Reader == "epoll" && !req.Polling {
		w.mu.Lock()
		if w.reader == nil {
			r, err := newEpollReader(w, req.Loops)
			if err != nil {
				w.mu.Unlock()
				return openRes{Failed: req.N, FirstErr: err.Error()}
			}
			w.reader = r
		}
		reader = w.reader
		w.mu.Unlock()
	}
	srcs := make([]*net.TCPAddr, 0, len(req.Sources))
	for _, s := range req.Sources {
		srcs = append(srcs, &net.TCPAddr{IP: net.ParseIP(s)})
	}
	for i := 0; i < req.N; i++ {
		if !req.Deadline.IsZero() && time.Now().After(req.Deadline) {
			failed.Add(int64(req.N - i))
			errOnce.Do(func() { firstErr = "open phase deadline passed" })
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		d := &net.Dialer{}
		if len(srcs) > 0 {
			d.LocalAddr = srcs[(req.First+i)%len(srcs)]
		}
		go func() {
			c, err := w.handshake(d, req)
			if err == nil && reader != nil {
				c, err = reader.adopt(c.(*wsClient))
			}
			<-sem
			if err != nil {
				failed.Add(1)
				errOnce.Do(func() { firstErr = err.Error() })
				wg.Done()
				return
			}
			w.mu.Lock()
			w.conns = append(w.conns, c)
			w.mu.Unlock()
			wg.Done()
			if reader == nil {
				w.readLoop(c)
			}
		}()
	}
	wg.Wait()
	w.mu.Lock()
	n := len(w.conns)
	w.mu.Unlock()
	return openRes{Opened: n, Failed: int(failed.Load()), FirstErr: firstErr}
}

// handshake dials one connection and completes: Engine.IO open packet (server → client), then
// Socket.IO connect to "/" ("40" → "40{...}").
func (w *worker) handshake(d *net.Dialer, req openReq) (client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), req.Timeout)
	defer cancel()
	var c client
	var err error
	if req.Polling {
		c, err = dialPolling(ctx, d, req.Addr, req.Path, req.Cookie)
	} else {
		c, err = dialWS(ctx, d, req.Addr, req.Path, req.Cookie)
	}
	if err != nil {
		return nil, err
	}
	fail := func(err error) (client, error) { c.close(); return nil, err }
	p, err := c.readMessage()
	if err != nil {
		return fail(fmt.Errorf("reading open packet: %w", err))
	}
	if !bytes.HasPrefix(p, eioOpenPrefix) {
		return fail(fmt.Errorf("expected Engine.IO open packet, got %.40q", p))
	}
	if err := c.writeText(sioConnect); err != nil {
		return fail(err)
	}
	for {
		p, err = c.readMessage()
		if err != nil {
			return fail(fmt.Errorf("reading Socket.IO connect: %w", err))
		}
		if bytes.Equal(p, eioPing) {
			c.writeText(eioPong)
			continue
		}
		break
	}
	if !bytes.HasPrefix(p, sioConnect) || len(p) < 3 || p[2] != '{' {
		return fail(fmt.Errorf("expected Socket.IO connect packet, got %.40q", p))
	}
	c.setDeadline(time.Time{})
	return c, nil
}

// readLoop answers Engine.IO pings and counts chat messages until the connection fails.
func (w *worker) readLoop(c client) {
	for {
		p, err := c.readMessage()
		if err != nil {
			if !w.closing.Load() {
				w.dropped.Add(1)
			}
			c.close()
			return
		}
		switch {
		case bytes.HasPrefix(p, chatPrefix):
			w.onChat(p)
		case bytes.Equal(p, eioPing):
			if c.writeText(eioPong) != nil {
				c.close()
				return
			}
		}
	}
}

// onChat records one delivery. The message text starts with the sender's clock in unix
// nanoseconds; all processes share the machine's clock.
func (w *worker) onChat(p []byte) {
	now := time.Now().UnixNano()
	w.received.Add(1)
	for {
		last := w.lastRecv.Load()
		if now <= last || w.lastRecv.CompareAndSwap(last, now) {
			break
		}
	}
	i := bytes.Index(p, messageKey)
	if i < 0 {
		return
	}
	var sent int64
	for _, b := range p[i+len(messageKey):] {
		if b < '0' || b > '9' {
			break
		}
		sent = sent*10 + int64(b-'0')
	}
	if sent > 0 {
		w.hist.record(time.Duration(now - sent))
	}
}

// start resets the counters for a new measurement.
func (w *worker) start(startReq) {
	w.received.Store(0)
	w.lastRecv.Store(0)
	w.hist.reset()
	w.cpuStart = selfCPU()
}

// send sends req.M chat messages on this worker's first connection.
func (w *worker) send(req sendReq) sendRes {
	w.mu.Lock()
	var c client
	if len(w.conns) > 0 {
		c = w.conns[0]
	}
	w.mu.Unlock()
	if c == nil {
		return sendRes{Err: "no connection to send on"}
	}
	var interval time.Duration
	if req.Rate > 0 {
		interval = time.Duration(float64(time.Second) / req.Rate)
	}
	buf := make([]byte, 0, 64+req.Size)
	t0 := time.Now()
	res := sendRes{Start: t0.UnixNano()}
	for i := 0; i < req.M; i++ {
		if interval > 0 {
			if d := time.Until(t0.Add(time.Duration(i) * interval)); d > 0 {
				time.Sleep(d)
			}
		}
		buf = appendChat(buf[:0], time.Now().UnixNano(), i, req.Size)
		if err := c.writeText(buf); err != nil {
			res.Err = err.Error()
			break
		}
		res.Sent++
	}
	res.Duration = time.Since(t0)
	return res
}

// appendChat appends 42["chat message","<unix ns> <seq> <padding>"].
func appendChat(b []byte, now int64, seq, size int) []byte {
	b = append(b, `42["chat message","`...)
	start := len(b)
	b = strconv.AppendInt(b, now, 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(seq), 10)
	for len(b)-start < size {
		b = append(b, 'x')
	}
	return append(b, `"]`...)
}

// wait blocks until req.Expected messages arrived since start, or until req.Deadline.
func (w *worker) wait(req waitReq) waitRes {
	for w.received.Load() < req.Expected && time.Now().Before(req.Deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return waitRes{
		Received: w.received.Load(),
		LastRecv: w.lastRecv.Load(),
		Hist:     w.hist.sparse(),
		CPU:      selfCPU() - w.cpuStart,
		Dropped:  w.dropped.Load(),
	}
}

// close closes every connection.
func (w *worker) close() {
	w.closing.Store(true)
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range w.conns {
		c.close()
	}
	w.conns = nil
	if w.reader != nil {
		w.reader.close()
		w.reader = nil
	}
}

func (w *worker) pid() int { return os.Getpid() }
