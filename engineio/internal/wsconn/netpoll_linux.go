//go:build linux

package wsconn

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var errWouldBlock = unix.EAGAIN

const readBufSize = 64 << 10

// sendFlags: never block, never raise SIGPIPE (a closed peer is an error).
const sendFlags = unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL

// loop is one epoll instance and the goroutine waiting on it. Connections are
// edge-triggered; the loop reads them (and runs their handlers) itself.
type loop struct {
	e      *Engine
	epfd   int // ep's descriptor, kept: ep.Fd() would put it back in blocking mode
	wakefd int // eventfd used to stop the loop
	// ep owns epfd, registered with the Go runtime's poller (an epoll
	// descriptor is readable while it has events): the loop parks as a
	// goroutine until then, instead of a thread blocking in epoll_wait while
	// it holds a P, which sysmon has to take back (see rawCalls). epRC is
	// nil where the runtime's poller refused epfd: the loop then blocks in
	// epoll_wait.
	ep   *os.File
	epRC syscall.RawConn

	mu      sync.Mutex
	conns   map[int]*Conn
	resumed []*Conn // connections whose reading resumed: read them again
	stopped bool

	buf  []byte
	done chan struct{}
}

// takeFD moves a plain TCP connection out of the Go runtime's poller: it
// duplicates the descriptor (non-blocking, close-on-exec) and closes the
// original. Other connection types stay in goroutine mode.
func takeFD(nc net.Conn) (int, bool) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return -1, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return -1, false
	}
	fd := -1
	var dupErr error
	if err := rc.Control(func(s uintptr) {
		fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil || dupErr != nil {
		return -1, false
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		_ = unix.Close(fd)
		return -1, false
	}
	_ = tc.Close()
	return fd, true
}

func closeFD(fd int) error { return unix.Close(fd) }

func newLoop(e *Engine) (*loop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wakefd, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wakefd)}); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, err
	}
	if err := unix.SetNonblock(epfd, true); err != nil {
		_ = unix.Close(epfd)
		_ = unix.Close(wakefd)
		return nil, err
	}
	ep := os.NewFile(uintptr(epfd), "wsconn-epoll")
	rc, err := ep.SyscallConn()
	if err != nil {
		_ = ep.Close()
		_ = unix.Close(wakefd)
		return nil, err
	}
	// Only a descriptor on the runtime's poller takes deadlines.
	if e.opts.blockingWait || ep.SetReadDeadline(time.Time{}) != nil {
		if !e.opts.blockingWait {
			e.log.Warn("wsconn: the runtime poller refused an epoll descriptor; loops block in epoll_wait")
		}
		rc = nil
	}
	l := &loop{e: e, epfd: epfd, wakefd: wakefd, ep: ep, epRC: rc, conns: make(map[int]*Conn), buf: make([]byte, readBufSize), done: make(chan struct{})}
	go l.run()
	return l, nil
}

func (l *loop) add(c *Conn) error {
	l.mu.Lock()
	l.conns[c.fd] = c
	l.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(c.fd)}
	if err := unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, c.fd, &ev); err != nil {
		return err
	}
	return nil
}

// release unregisters and closes c's descriptor, once no syscall uses it.
func (l *loop) release(c *Conn) {
	c.ioMu.Lock()
	defer c.ioMu.Unlock()
	if c.fdClosed {
		return
	}
	c.fdClosed = true
	l.mu.Lock()
	if l.conns[c.fd] == c {
		delete(l.conns, c.fd)
	}
	l.mu.Unlock()
	_ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, c.fd, nil)
	_ = unix.Close(c.fd)
	l.e.live.Add(-1)
}

func (l *loop) shutdown(c *Conn, both bool) {
	c.ioMu.RLock()
	defer c.ioMu.RUnlock()
	if c.fdClosed {
		return
	}
	how := unix.SHUT_WR
	if both {
		how = unix.SHUT_RDWR
	}
	_ = unix.Shutdown(c.fd, how)
}

// writev writes bufs without blocking; it returns the bytes written and
// errWouldBlock when the socket is full.
func (l *loop) writev(c *Conn, bufs [][]byte) (int, error) {
	c.ioMu.RLock()
	defer c.ioMu.RUnlock()
	if c.fdClosed {
		return 0, ErrClosed
	}
	total := 0
	var iov [maxIovecs]unix.Iovec
	for len(bufs) > 0 {
		batch := bufs
		if len(batch) > maxIovecs {
			batch = batch[:maxIovecs]
		}
		want := 0
		for i, b := range batch {
			want += len(b)
			iov[i].Base = unsafe.SliceData(b)
			iov[i].SetLen(len(b))
		}
		n, err := sendmsg(c.fd, iov[:len(batch)])
		clear(iov[:len(batch)])
		if n > 0 {
			total += n
		}
		if err == unix.EINTR {
			bufs = consume(bufs, max(n, 0))
			continue
		}
		if err != nil {
			return total, err
		}
		if n < want {
			return total, errWouldBlock
		}
		bufs = bufs[len(batch):]
	}
	return total, nil
}

// rawCalls: the loop's and the writers' system calls (sendmsg, read,
// epoll_pwait with a zero timeout) never block, so they are made with
// RawSyscall, without telling the scheduler. A call through entersyscall on a
// server whose goroutines are otherwise idle wakes the runtime's sysmon thread
// from deep sleep, and sysmon then checks every 20 µs for a millisecond or
// more: with a heartbeat written every few milliseconds (5,000 sockets, 25 s
// interval) that was 4.8% of the server's CPU in the paced benchmark and
// woke a thread on a core the broadcast needed. Waiting, the one call that
// blocks, goes through the runtime's poller instead (loop.wait).

// maxIovecs bounds one sendmsg's buffers; a longer queue takes several calls.
// 64 covers what one connection accumulates in the flood benchmark (~30
// frames per write) and keeps the array on the stack.
const maxIovecs = 64

// sendmsg sends iov with sendmsg(2) and sendFlags.
//
// sendmsg, not write/writev: a socket call skips the generic file write path
// (vfs_write, the file-position lock), ~8% of a delivery's kernel time in the
// paced profile. The iovecs live on the caller's stack: no allocation per
// call, unlike unix.SendmsgBuffers. It is a raw system call: see rawCalls.
func sendmsg(fd int, iov []unix.Iovec) (int, error) {
	var msg unix.Msghdr
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	n, _, errno := syscall.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), sendFlags)
	if errno != 0 {
		return int(n), errno
	}
	return int(n), nil
}

// epollPoll returns the ready events without waiting.
func epollPoll(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, errno := syscall.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// readRaw reads from a non-blocking descriptor.
func readRaw(fd int, p []byte) (int, error) {
	n, _, errno := syscall.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}

func (l *loop) run() {
	defer close(l.done)
	events := make([]unix.EpollEvent, 256)
	for {
		n, err := l.wait(events)
		if err != nil {
			l.e.log.Error("wsconn: epoll_wait failed", "err", err)
			return
		}
		for i := 0; i < n; i++ {
			ev := events[i]
			fd := int(ev.Fd)
			if fd == l.wakefd {
				if l.wake() {
					l.drainAll()
					return
				}
				continue
			}
			l.mu.Lock()
			c := l.conns[fd]
			l.mu.Unlock()
			if c == nil {
				continue
			}
			if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
				l.read(c, ev.Events&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0)
			}
			if ev.Events&unix.EPOLLOUT != 0 {
				c.onWritable()
			}
		}
	}
}

// wait returns the next ready events, parking the goroutine on the runtime
// poller while there are none.
func (l *loop) wait(events []unix.EpollEvent) (int, error) {
	if l.epRC == nil {
		for {
			n, err := unix.EpollWait(l.epfd, events, -1)
			if err != unix.EINTR {
				return n, err
			}
		}
	}
	var n int
	var err error
	rerr := l.epRC.Read(func(uintptr) bool {
		for {
			n, err = epollPoll(l.epfd, events)
			if err != unix.EINTR {
				return n > 0 || err != nil
			}
		}
	})
	if err == nil {
		err = rerr
	}
	return n, err
}

// read drains c's socket and hands what it read to c's handler; meanwhile
// c counts as having unread bytes (see unread).
func (l *loop) read(c *Conn, hangup bool) {
	c.inRead.Store(true)
	l.drain(c, hangup)
	c.inRead.Store(false)
}

// drain reads c's socket until it is empty. Without a hang-up flag a short
// read means the socket is empty (edge-triggered: new data raises a new
// event).
func (l *loop) drain(c *Conn, hangup bool) {
	c.feedPending()
	for {
		if c.readPaused() {
			return // resume reads what is waiting
		}
		c.ioMu.RLock()
		if c.fdClosed {
			c.ioMu.RUnlock()
			return
		}
		n, err := readRaw(c.fd, l.buf)
		c.ioMu.RUnlock()
		if n > 0 {
			if !c.rd.closed {
				if ferr := c.rd.feed(l.buf[:n], sink{c}); ferr != nil {
					c.readFailed(ferr)
				}
			}
			if n < len(l.buf) && !hangup {
				return
			}
			continue
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return
		case err == nil:
			err = io.EOF
		}
		c.Abort(err)
		c.notifyClose()
		l.release(c)
		return
	}
}

// stop aborts the loop's connections and ends the loop.
func (l *loop) stop() {
	l.mu.Lock()
	l.stopped = true
	l.mu.Unlock()
	l.signal()
	<-l.done
	l.mu.Lock() // resume signals under mu: none may write to a closed (reused) number
	_ = unix.Close(l.wakefd)
	l.wakefd = -1
	l.mu.Unlock()
	_ = l.ep.Close()
}

// signal wakes the loop.
func (l *loop) signal() {
	var one = [8]byte{1}
	_, _ = unix.Write(l.wakefd, one[:])
}

// resume asks the loop to read c again: its socket may hold data that
// arrived while reading was paused (an edge already consumed).
func (l *loop) resume(c *Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.stopped {
		return // the loop is gone; so is the wake descriptor, or soon
	}
	l.resumed = append(l.resumed, c)
	l.signal() // non-blocking; under mu, see stop
}

// wake handles the wake descriptor: it reads the resumed connections and
// reports whether the loop must stop.
func (l *loop) wake() bool {
	var buf [8]byte
	_, _ = unix.Read(l.wakefd, buf[:])
	l.mu.Lock()
	stop, resumed := l.stopped, l.resumed
	l.resumed = nil
	l.mu.Unlock()
	if stop {
		return true
	}
	for _, c := range resumed {
		l.read(c, true)
	}
	return false
}

// drainAll aborts every connection of the loop (engine shutdown).
func (l *loop) drainAll() {
	l.mu.Lock()
	conns := make([]*Conn, 0, len(l.conns))
	for _, c := range l.conns {
		conns = append(conns, c)
	}
	l.mu.Unlock()
	for _, c := range conns {
		c.Abort(errors.New("wsconn: engine closed"))
		c.notifyClose()
		l.release(c)
	}
}

// unread reports whether c's socket holds received bytes not read yet, or
// the loop is reading and handling some. The socket is asked first: bytes it
// no longer holds were taken by a read that had already set inRead, which
// stays set until the handler has returned.
func (l *loop) unread(c *Conn) bool {
	c.ioMu.RLock()
	n, err := 0, error(nil)
	if !c.fdClosed {
		n, err = unix.IoctlGetInt(c.fd, unix.SIOCINQ)
	}
	c.ioMu.RUnlock()
	return (err == nil && n > 0) || c.inRead.Load()
}
