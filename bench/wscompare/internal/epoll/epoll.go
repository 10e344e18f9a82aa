// Package epoll watches many gobwasconn connections with one Linux epoll instance, so that an
// idle connection costs no goroutine: one goroutine waits in epoll_wait, a small pool of
// workers reads each ready frame with the ordinary net.Conn (the data is there, so the read
// does not block) and re-arms the one-shot watch. This is the design of gobwas's "A Million
// WebSockets and Go" with the loop written out (golang.org/x/sys/unix) instead of
// mailru/easygo/netpoll, which the Go module proxy does not serve.
package epoll

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"switchboard/bench/wscompare/internal/gobwasconn"
)

const readWait = 10 * time.Second // a frame whose first byte arrived must be complete by then

// A Poller is an epoll instance, the goroutine waiting on it, and the workers that read.
type Poller struct {
	epfd  int
	tasks chan *watched

	mu     sync.Mutex
	nextID uint64
	byID   map[uint64]*watched
}

type watched struct {
	c  *gobwasconn.Conn
	fd int
	id uint64 // carried in the epoll event instead of the fd, which the kernel reuses
}

// New starts a poller with the given number of reading workers.
func New(workers int) (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	p := &Poller{epfd: epfd, tasks: make(chan *watched, 1024), byID: map[uint64]*watched{}}
	for range workers {
		go p.work()
	}
	go p.wait()
	return p, nil
}

const events = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func epollEvent(id uint64) *unix.EpollEvent {
	return &unix.EpollEvent{Events: events, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// Add watches c, whose NC must be a syscall.Conn (a *net.TCPConn); from now on its frames are
// read and handled by the poller's workers, and c.Close stops the watch.
func (p *Poller) Add(c *gobwasconn.Conn) error {
	sc, ok := c.NC.(syscall.Conn)
	if !ok {
		return errors.New("epoll: not a syscall.Conn")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	w := &watched{c: c, fd: -1}
	rc.Control(func(fd uintptr) { w.fd = int(fd) })
	p.mu.Lock()
	p.nextID++
	w.id = p.nextID
	p.byID[w.id] = w
	p.mu.Unlock()
	c.OnClose = func() {
		p.mu.Lock()
		delete(p.byID, w.id)
		p.mu.Unlock()
		unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, w.fd, nil)
	}
	return unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, w.fd, epollEvent(w.id))
}

func (p *Poller) wait() {
	evs := make([]unix.EpollEvent, 256)
	for {
		n, err := unix.EpollWait(p.epfd, evs, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			panic(err)
		}
		for _, ev := range evs[:n] {
			id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
			p.mu.Lock()
			w := p.byID[id]
			p.mu.Unlock()
			if w != nil {
				p.tasks <- w
			}
		}
	}
}

// work reads one frame per readiness event and re-arms the one-shot watch; with more frames
// waiting, epoll reports the socket again at once.
func (p *Poller) work() {
	for w := range p.tasks {
		w.c.NC.SetReadDeadline(time.Now().Add(readWait))
		if err := w.c.ReadAndHandle(); err != nil {
			w.c.Close()
			continue
		}
		if err := unix.EpollCtl(p.epfd, unix.EPOLL_CTL_MOD, w.fd, epollEvent(w.id)); err != nil {
			w.c.Close()
		}
	}
}

// Ensure the workers' reads are on TCP connections, whose fds epoll can watch.
var _ syscall.Conn = (*net.TCPConn)(nil)
