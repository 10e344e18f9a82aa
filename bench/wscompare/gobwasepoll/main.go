// Command gobwasepoll is the wscompare bench server on github.com/gobwas/ws with no goroutine
// per idle connection: its own accept loop and the library's zero-copy upgrade, then the
// connection's socket is watched by one epoll loop (internal/epoll).
package main

import (
	"net"
	"runtime"
	"time"

	"switchboard/bench/wscompare/internal/epoll"
	"switchboard/bench/wscompare/internal/gobwasconn"
	"switchboard/bench/wscompare/internal/sio"
)

func main() {
	s := gobwasconn.NewServer()
	sio.Main("gobwasepoll", func(addr string) error {
		p, err := epoll.New(4 * runtime.GOMAXPROCS(0))
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
func handshake(s *gobwasconn.Server, p *epoll.Poller, nc net.Conn) {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := s.Upgrade(nc)
	if err != nil {
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	if err := p.Add(c); err != nil {
		c.Close()
	}
}
