// Command gorilla is the wscompare bench server on github.com/gorilla/websocket: net/http,
// one reading goroutine per connection (the handler), writes through an on-demand writer
// goroutine (gorilla allows one concurrent writer), and each broadcast is one PreparedMessage:
// framed once, the same bytes written to every connection.
package main

import (
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/bench/wscompare/internal/sio"
)

const writeWait = 10 * time.Second

type server struct {
	hub      *sio.Hub[*client]
	upgrader websocket.Upgrader
}

type client struct {
	sio.Heartbeat
	ws  *websocket.Conn
	out sio.Outbox[*websocket.PreparedMessage]
}

var ping, _ = websocket.NewPreparedMessage(websocket.TextMessage, sio.Ping)

func main() {
	s := &server{hub: sio.NewHub[*client]()}
	s.upgrader = websocket.Upgrader{
		// Zero buffer sizes reuse the buffers net/http allocated for the request; the pool lends
		// a write buffer only while a message is being written, so an idle connection holds none.
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*http.Request) bool { return true },
	}
	sio.Main("gorilla", func(addr string) error { return http.ListenAndServe(addr, s) })
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sio.IsWebSocketRequest(r) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{ws: ws}
	defer func() {
		s.hub.Remove(c)
		c.out.Close()
		ws.Close()
	}()
	ws.SetReadLimit(1_000_000)
	if ws.WriteMessage(websocket.TextMessage, sio.OpenPacket(sio.NewSID())) != nil {
		return
	}
	for {
		_, p, err := ws.ReadMessage()
		if err != nil {
			return
		}
		switch kind, text := sio.Parse(p); kind {
		case sio.Connect:
			pm, _ := websocket.NewPreparedMessage(websocket.TextMessage, sio.ConnectPacket())
			c.send(pm)
			s.hub.Add(c)
		case sio.Pong:
			c.Ponged()
		case sio.Chat:
			s.broadcast(text)
		case sio.Close:
			return
		}
	}
}

// broadcast frames the packet once and queues it for every connection.
func (s *server) broadcast(text []byte) {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, sio.AppendBroadcast(nil, text))
	if err != nil {
		return
	}
	s.hub.Each(func(c *client) { c.send(pm) })
}

// send queues pm; a connection whose queue is full is closed (its reader then cleans up).
func (c *client) send(pm *websocket.PreparedMessage) {
	if !c.out.Push(pm, sio.DefaultOutboxLimit, c.flush) {
		c.ws.Close()
	}
}

func (c *client) flush(batch []*websocket.PreparedMessage) error {
	c.ws.SetWriteDeadline(time.Now().Add(writeWait))
	for _, pm := range batch {
		if err := c.ws.WritePreparedMessage(pm); err != nil {
			c.ws.Close()
			return err
		}
	}
	return nil
}

func (c *client) SendPing() { c.send(ping) }
func (c *client) Close()    { c.ws.Close() }
