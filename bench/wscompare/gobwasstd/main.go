// Command gobwasstd is gobwasepoll behind a standard net/http server, the shape a library whose
// Engine.IO server is an http.Handler needs: the handler upgrades with ws.UpgradeHTTP (hijacking
// the connection from net/http), then hands the socket to the epoll loop, so the idle connection
// keeps neither net/http's goroutine and buffers nor one of its own.
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
	sio.Main("gobwasstd", func(addr string) error {
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
	if err := h.p.Add(c); err != nil {
		c.Close()
	}
}
