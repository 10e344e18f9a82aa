// Command gobwaspool is gobwasstd (net/http handler, ws.UpgradeHTTP, epoll loop) with its
// writes done by a gobwasconn.WritePool: GOMAXPROCS long-lived goroutines write each
// connection's queued frames with one non-blocking writev, so a steady stream costs one write
// per delivery without starting goroutines, a burst is batched, and only a connection whose
// socket is full gets a goroutine of its own. A candidate shape for Switchboard's transport.
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
	s  *gobwasconn.Server
	p  *epoll.Poller
	wp *gobwasconn.WritePool
}

func main() {
	sio.Main("gobwaspool", func(addr string) error {
		p, err := epoll.New(4 * runtime.GOMAXPROCS(0))
		if err != nil {
			return err
		}
		wp := gobwasconn.NewWritePool(runtime.GOMAXPROCS(0))
		return http.ListenAndServe(addr, &server{s: gobwasconn.NewServer(), p: p, wp: wp})
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
	if err := c.UsePool(h.wp); err != nil {
		c.Close()
		return
	}
	if err := h.p.Add(c); err != nil {
		c.Close()
	}
}
