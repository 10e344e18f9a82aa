// Command gobwashybrid is gobwasstd (net/http handler, ws.UpgradeHTTP, epoll loop) with direct
// writes: a broadcast writes each connection's frame with a non-blocking write from the
// broadcasting goroutine, and only a connection whose socket is full gets its on-demand writer
// goroutine (which then batches with writev). It is the candidate shape for Switchboard's
// WebSocket transport, measured beside the libraries.
package main

import (
	"net/http"
	"runtime"

	"github.com/gobwas/ws"

	"switchboard/bench/wscompare/internal/epoll"
	"switchboard/bench/wscompare/internal/gobwasconn"
	"switchboard/bench/wscompare/internal/sio"
)

type server struct {
	s *gobwasconn.Server
	p *epoll.Poller
}

func main() {
	sio.Main("gobwashybrid", func(addr string) error {
		p, err := epoll.New(4 * runtime.GOMAXPROCS(0))
		if err != nil {
			return err
		}
		return http.ListenAndServe(addr, &server{s: gobwasconn.NewServer(), p: p})
	})
}

func (h *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sio.IsWebSocketRequest(r) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	nc, brw, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	if brw.Reader.Buffered() > 0 { // a client may not send frames before the handshake's answer
		nc.Close()
		return
	}
	c, err := h.s.Open(nc)
	if err != nil {
		nc.Close()
		return
	}
	if err := c.DirectWrites(); err != nil {
		c.Close()
		return
	}
	if err := h.p.Add(c); err != nil {
		c.Close()
	}
}
