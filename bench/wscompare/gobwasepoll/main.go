// Command gobwasepoll is the wscompare bench server on github.com/gobwas/ws with no goroutine
// per idle connection: after the handshake a connection's socket is watched by one epoll loop
// (golang.org/x/sys/unix, one-shot), and a small pool of workers reads the ready frame with the
// ordinary net.Conn (data is already there, so the read does not block) and re-arms the watch.
// This is the design of gobwas's "A Million WebSockets and Go" with the epoll loop written out
// instead of mailru/easygo/netpoll, which the Go module proxy does not serve.
package main

import (
	"errors"
	"fmt"
	"net"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"switchboard/bench/wscompare/internal/gobwasconn"
	"switchboard/bench/wscompare/internal/sio"
)

const readWait = 10 * time.Second // a frame whose first byte arrived must be complete by then

func main() {
	s := gobwasconn.NewServer()
	sio.Main("gobwasepoll", func(addr string) error {
		p, err := newPoller(4 * runtime.GOMAXPROCS(0))
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		for {
			nc, err := ln.Accept()
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					continue
				}
				return err
			}
			go handshake(s, p, nc)
		}
	})
}

// handshake upgrades nc on its own goroutine, then hands it to the poller and returns.
func handshake(s *gobwasconn.Server, p *poller, nc net.Conn) {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := s.Upgrade(nc)
	if err != nil {
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	if err := p.add(c); err != nil {
		c.Close()
	}
}

// A poller is an epoll instance, the goroutine waiting on it, and the workers that read.
type poller struct {
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

func newPoller(workers int) (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	p := &poller{epfd: epfd, tasks: make(chan *watched, 1024), byID: map[uint64]*watched{}}
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

func (p *poller) add(c *gobwasconn.Conn) error {
	tc, ok := c.NC.(*net.TCPConn)
	if !ok {
		return errors.New("not a TCP connection")
	}
	rc, err := tc.SyscallConn()
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

func (p *poller) wait() {
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
func (p *poller) work() {
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
