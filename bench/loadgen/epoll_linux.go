package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The epoll receiver: once a WebSocket connection has finished its handshakes it leaves Go's
// netpoller and joins one of a few epoll loops, each a goroutine that waits for ready
// connections, reads each (usually with one recvfrom(2)) and parses every complete frame in the
// bytes read.
// A delivery then costs the load generator one system call and no goroutine wake-up, so the
// generator takes as little as it can of the CPU it shares with the server under test (the
// goroutine-per-connection reader pays a wake-up, a second read that ends in EAGAIN and the
// scheduler for every message). Writes (the sender's messages, pongs, the closing handshake)
// go straight to the socket.
const epollAvailable = true

// An epollReader owns the loops; a worker has at most one.
type epollReader struct {
	w     *worker
	loops []*epollLoop
	next  atomic.Uint32
	stop  atomic.Bool
	wg    sync.WaitGroup
}

type epollLoop struct {
	r     *epollReader
	epfd  int
	mu    sync.Mutex
	conns map[int32]*epConn
	buf   []byte
}

// An epConn is one WebSocket connection served by an epoll loop.
type epConn struct {
	fd   int
	loop *epollLoop

	// Reader state, owned by the loop's goroutine.
	pending []byte // bytes of an incomplete frame from earlier reads
	msg     []byte // payload of a fragmented message being assembled

	wmu    sync.Mutex // one writer at a time; guards closed and wbuf
	closed bool
	wbuf   []byte
}

func newEpollReader(w *worker, loops int) (*epollReader, error) {
	r := &epollReader{w: w}
	for range max(loops, 1) {
		epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("loadgen: epoll_create1: %w", err)
		}
		l := &epollLoop{r: r, epfd: epfd, conns: make(map[int32]*epConn), buf: make([]byte, 64<<10)}
		r.loops = append(r.loops, l)
		r.wg.Add(1)
		go l.run()
	}
	return r, nil
}

// adopt moves c, fresh from its handshakes, to a loop. Bytes c had already buffered are parsed
// first. On error c is closed.
func (r *epollReader) adopt(c *wsClient) (client, error) {
	tc, ok := c.nc.(syscall.Conn)
	if !ok {
		c.close()
		return nil, errors.New("loadgen: connection has no file descriptor")
	}
	sc, err := tc.SyscallConn()
	if err != nil {
		c.close()
		return nil, err
	}
	fd := -1
	var dupErr error
	if err := sc.Control(func(s uintptr) { fd, dupErr = unix.Dup(int(s)) }); err != nil || dupErr != nil {
		c.close()
		return nil, errors.Join(err, dupErr)
	}
	unix.CloseOnExec(fd)
	var early []byte
	if n := c.br.Buffered(); n > 0 {
		early, _ = c.br.Peek(n)
		early = append([]byte(nil), early...)
	}
	c.nc.Close() // Go's netpoller lets go of the socket; the duplicate keeps it open
	l := r.loops[int(r.next.Add(1))%len(r.loops)]
	ec := &epConn{fd: fd, loop: l, pending: early}
	l.mu.Lock()
	l.conns[int32(fd)] = ec
	l.mu.Unlock()
	if len(early) > 0 {
		if err := ec.parse(nil); err != nil {
			ec.fail(err)
			return nil, err
		}
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		ec.close()
		return nil, fmt.Errorf("loadgen: epoll_ctl: %w", err)
	}
	return ec, nil
}

// close stops the loops; the connections are closed by the worker.
func (r *epollReader) close() {
	r.stop.Store(true)
	r.wg.Wait()
	for _, l := range r.loops {
		unix.Close(l.epfd)
	}
}

func (l *epollLoop) run() {
	defer l.r.wg.Done()
	events := make([]unix.EpollEvent, 256)
	for !l.r.stop.Load() {
		n, err := unix.EpollWait(l.epfd, events, 100)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return
		}
		for i := range n {
			l.mu.Lock()
			c := l.conns[events[i].Fd]
			l.mu.Unlock()
			if c != nil {
				c.readReady(events[i].Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
			}
		}
	}
}

// readReady reads until the socket is drained: the registration is edge-triggered, so the
// loop hears of a socket again only when more data arrives. A read shorter than the buffer means
// the socket was empty at that moment, which saves the read that would end in EAGAIN — unless
// the peer hung up (hangup): then it reads on to the end of the stream, whose edge has passed.
func (c *epConn) readReady(hangup bool) {
	for {
		n, err := recvRaw(c.fd, c.loop.buf)
		switch {
		case err == unix.EAGAIN:
			return
		case err == unix.EINTR:
			continue
		case err != nil:
			c.fail(err)
			return
		case n == 0:
			c.fail(io.EOF)
			return
		}
		if err := c.parse(c.loop.buf[:n]); err != nil {
			c.fail(err)
			return
		}
		if n < len(c.loop.buf) && !hangup {
			return
		}
	}
}

// recvRaw is recvfrom(2) on a non-blocking socket as a raw system call: a socket call skips
// read(2)'s generic file path, and a call that cannot sleep need not hand its P to the scheduler.
func recvRaw(fd int, b []byte) (int, error) {
	n, _, errno := syscall.RawSyscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), unix.MSG_DONTWAIT, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// parse handles every complete frame in c.pending followed by b, and keeps the incomplete rest.
func (c *epConn) parse(b []byte) error {
	if len(c.pending) > 0 {
		c.pending = append(c.pending, b...)
		b = c.pending
	}
	for {
		hdr, n, ok := frameHeader(b)
		if !ok {
			break
		}
		if n > maxMessage || uint64(len(c.msg))+n > maxMessage {
			return errTooLarge
		}
		if uint64(len(b)-hdr) < n {
			break
		}
		fin := b[0]&0x80 != 0
		op := b[0] & 0x0f
		masked := b[1]&0x80 != 0
		payload := b[hdr : hdr+int(n)]
		if masked { // servers must not mask, but tolerate it
			maskBytes(payload, [4]byte(b[hdr-4:hdr]))
		}
		b = b[hdr+int(n):]
		switch {
		case op == opClose:
			c.writeFrame(opClose, nil)
			return io.EOF
		case op == opPing:
			if err := c.writeFrame(opPong, payload); err != nil {
				return err
			}
		case op >= opClose: // pong: nothing to do
		case !fin:
			c.msg = append(c.msg, payload...)
		case len(c.msg) > 0:
			c.msg = append(c.msg, payload...)
			if err := c.message(c.msg); err != nil {
				return err
			}
			c.msg = c.msg[:0]
		default:
			if err := c.message(payload); err != nil {
				return err
			}
		}
	}
	// Keep what is left in c's own buffer (b may be the loop's shared one, or a suffix of
	// c.pending: copy handles the overlap).
	c.pending = append(c.pending[:0], b...)
	return nil
}

// frameHeader returns the header length and payload length of the frame b starts with, or
// ok false if b does not hold the whole header yet.
func frameHeader(b []byte) (hdr int, n uint64, ok bool) {
	if len(b) < 2 {
		return 0, 0, false
	}
	hdr = 2
	n = uint64(b[1] & 0x7f)
	switch n {
	case 126:
		hdr = 4
	case 127:
		hdr = 10
	}
	if b[1]&0x80 != 0 {
		hdr += 4
	}
	if len(b) < hdr {
		return 0, 0, false
	}
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(b[2:4]))
	case 127:
		n = binary.BigEndian.Uint64(b[2:10])
	}
	return hdr, n, true
}

func (c *epConn) message(p []byte) error {
	w := c.loop.r.w
	switch {
	case len(p) >= len(chatPrefix) && string(p[:len(chatPrefix)]) == string(chatPrefix):
		w.onChat(p)
	case string(p) == string(eioPing):
		return c.writeText(eioPong)
	}
	return nil
}

// fail closes c after a read or protocol error; unless the worker is closing, it counts as a
// dropped connection.
func (c *epConn) fail(error) {
	if c.close() == nil && !c.loop.r.w.closing.Load() {
		c.loop.r.w.dropped.Add(1)
	}
}

func (c *epConn) readMessage() ([]byte, error) {
	return nil, errors.New("loadgen: an epoll connection is read by its loop")
}

func (c *epConn) setDeadline(time.Time) {}

func (c *epConn) writeText(p []byte) error { return c.writeFrame(opText, p) }

// writeFrame sends one masked frame, waiting for room in the socket's send buffer if needed.
func (c *epConn) writeFrame(op byte, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closed {
		return io.ErrClosedPipe
	}
	b := appendMaskedFrame(c.wbuf[:0], op, p)
	c.wbuf = b
	for len(b) > 0 {
		n, err := unix.Write(c.fd, b)
		switch {
		case err == unix.EAGAIN:
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLOUT}}
			if _, err := unix.Poll(fds, 1000); err != nil && err != unix.EINTR {
				return err
			}
			continue
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		}
		b = b[n:]
	}
	return nil
}

// close removes c from its loop and closes the socket; a second close returns an error.
func (c *epConn) close() error {
	c.wmu.Lock()
	if c.closed {
		c.wmu.Unlock()
		return io.ErrClosedPipe
	}
	c.closed = true
	c.wmu.Unlock()
	l := c.loop
	unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	l.mu.Lock()
	delete(l.conns, int32(c.fd))
	l.mu.Unlock()
	return unix.Close(c.fd)
}
