// Command gobwas is the wscompare bench server on github.com/gobwas/ws with a goroutine per
// connection blocked in a read; see internal/gobwasconn for the shared handling.
package main

import (
	"net"
	"time"

	"switchboard/bench/wscompare/internal/gobwasconn"
	"switchboard/bench/wscompare/internal/sio"
)

func main() {
	s := gobwasconn.NewServer()
	sio.Main("gobwas", func(addr string) error {
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
			go serve(s, nc)
		}
	})
}

func serve(s *gobwasconn.Server, nc net.Conn) {
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := s.Upgrade(nc)
	if err != nil {
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})
	defer c.Close()
	for c.ReadAndHandle() == nil {
	}
}
