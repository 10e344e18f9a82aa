// Package gobwasconn is the github.com/gobwas/ws part shared by the two gobwas servers, which
// differ only in who waits for a connection to become readable: a goroutine per connection
// (../../gobwas) or an epoll loop (../../gobwasepoll, ../../gobwasstd).
//
// Upgrades use the library's zero-copy Upgrader on the raw net.Conn; frames are read with its
// low-level header API straight from the socket (no per-connection read buffer); a broadcast
// is compiled into one frame whose bytes are queued for every connection, and each
// connection's on-demand writer sends everything queued with one writev.
package gobwasconn

import (
	"errors"
	"io"
	"net"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"switchboard/bench/wscompare/internal/sio"
)

const (
	writeWait      = 10 * time.Second
	maxMessageSize = 1_000_000
)

var (
	errNotSocketIO = errors.New("not an Engine.IO v4 WebSocket request")
	errTooLarge    = errors.New("message too large")
	pingFrame      = ws.MustCompileFrame(ws.NewTextFrame(sio.Ping))
)

// Server is the hub and the handling shared by both variants.
type Server struct {
	Hub *sio.Hub[*Conn]
}

// NewServer returns a server with an empty hub.
func NewServer() *Server { return &Server{Hub: sio.NewHub[*Conn]()} }

// Conn is one upgraded connection.
type Conn struct {
	sio.Heartbeat
	NC  net.Conn
	s   *Server
	out sio.Outbox[[]byte]
	msg []byte // fragments of a message being assembled; nil between messages

	closeOnce sync.Once
	OnClose   func() // called once by Close, before the socket closes

	raw syscall.RawConn // set by DirectWrites
	pw  *pooled         // set by UsePool

	wmu     sync.Mutex // guards pw's queue and state, and wclosed
	wclosed bool
}

// DirectWrites makes send try a non-blocking write on the socket first, from the sending
// goroutine, and queue for the connection's writer goroutine only what the socket did not take
// (see sio.Outbox.PushOrWrite). The connection must be a syscall.Conn (a *net.TCPConn).
func (c *Conn) DirectWrites() error {
	sc, ok := c.NC.(syscall.Conn)
	if !ok {
		return errors.New("not a syscall.Conn")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	c.raw = raw
	return nil
}

// tryWrite writes what the socket takes without waiting; done is false when some is left.
func (c *Conn) tryWrite(frame []byte) (rest []byte, done bool) {
	var n int
	var err error
	if werr := c.raw.Write(func(fd uintptr) bool {
		n, err = unix.Write(int(fd), frame)
		return true // never wait here: the writer goroutine waits
	}); werr != nil {
		err = werr
	}
	switch {
	case err == unix.EAGAIN:
		return frame, false
	case err != nil:
		go c.Close() // not under the outbox lock
		return nil, true
	case n < len(frame):
		return frame[n:], false
	}
	return nil, true
}

// Upgrade performs the WebSocket handshake on nc (which must carry a deadline) for
// /socket.io/?EIO=4&transport=websocket and sends the Engine.IO open packet.
func (s *Server) Upgrade(nc net.Conn) (*Conn, error) {
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			u, err := url.ParseRequestURI(string(uri))
			if err != nil || u.Path != "/socket.io/" || u.Query().Get("EIO") != "4" || u.Query().Get("transport") != "websocket" {
				return ws.RejectConnectionError(ws.RejectionStatus(400), ws.RejectionReason(errNotSocketIO.Error()))
			}
			return nil
		},
	}
	if _, err := u.Upgrade(nc); err != nil {
		return nil, err
	}
	return s.Open(nc)
}

// Open starts Engine.IO on nc, a connection already upgraded to WebSocket (for example by
// ws.UpgradeHTTP in a net/http handler): it sends the open packet.
func (s *Server) Open(nc net.Conn) (*Conn, error) {
	c := &Conn{NC: nc, s: s}
	if _, err := nc.Write(ws.MustCompileFrame(ws.NewTextFrame(sio.OpenPacket(sio.NewSID())))); err != nil {
		return nil, err
	}
	return c, nil
}

// ReadAndHandle reads one frame from the socket and acts on it. An error means the connection
// is done; the caller then calls Close.
func (c *Conn) ReadAndHandle() error {
	h, err := ws.ReadHeader(c.NC)
	if err != nil {
		return err
	}
	if h.Length > maxMessageSize || int64(len(c.msg))+h.Length > maxMessageSize {
		return errTooLarge
	}
	start := len(c.msg)
	c.msg = append(c.msg, make([]byte, h.Length)...)
	payload := c.msg[start:]
	if _, err := io.ReadFull(c.NC, payload); err != nil {
		return err
	}
	if h.Masked {
		ws.Cipher(payload, h.Mask, 0)
	}
	if h.OpCode.IsControl() {
		c.msg = c.msg[:start]
		if len(c.msg) == 0 {
			c.msg = nil
		}
		switch h.OpCode {
		case ws.OpPing:
			c.send(ws.MustCompileFrame(ws.NewPongFrame(payload)))
		case ws.OpClose:
			return io.EOF
		}
		return nil
	}
	if !h.Fin {
		return nil
	}
	p := c.msg
	c.msg = nil
	switch kind, text := sio.Parse(p); kind {
	case sio.Connect:
		c.send(ws.MustCompileFrame(ws.NewTextFrame(sio.ConnectPacket())))
		c.s.Hub.Add(c)
	case sio.Pong:
		c.Ponged()
	case sio.Chat:
		frame := ws.MustCompileFrame(ws.NewTextFrame(sio.AppendBroadcast(nil, text)))
		c.s.Hub.Each(func(c *Conn) { c.send(frame) })
	case sio.Close:
		return io.EOF
	}
	return nil
}

// send queues one compiled frame; a connection whose queue is full is closed.
func (c *Conn) send(frame []byte) {
	var ok bool
	if c.pw != nil {
		ok = c.sendPooled(frame)
	} else if c.raw != nil {
		ok = c.out.PushOrWrite(frame, sio.DefaultOutboxLimit, c.tryWrite, c.flush)
	} else {
		ok = c.out.Push(frame, sio.DefaultOutboxLimit, c.flush)
	}
	if !ok {
		c.Close()
	}
}

func (c *Conn) flush(frames [][]byte) error {
	c.NC.SetWriteDeadline(time.Now().Add(writeWait))
	bufs := net.Buffers(frames)
	if _, err := bufs.WriteTo(c.NC); err != nil {
		c.Close()
		return err
	}
	return nil
}

// SendPing queues an Engine.IO ping.
func (c *Conn) SendPing() { c.send(pingFrame) }

// Close unregisters the connection and closes the socket. Safe to call more than once.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		c.s.Hub.Remove(c)
		c.out.Close()
		c.wmu.Lock()
		c.wclosed = true
		if c.pw != nil {
			clear(c.pw.queue)
			c.pw.queue = nil
		}
		c.wmu.Unlock()
		if c.OnClose != nil {
			c.OnClose()
		}
		c.NC.Close()
	})
}
