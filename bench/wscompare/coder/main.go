// Command coder is the wscompare bench server on github.com/coder/websocket: net/http, one
// reading goroutine per connection (the handler), writes through an on-demand writer goroutine
// so that a slow connection never blocks a broadcast. The library has no prepared-frame API:
// each broadcast's packet is encoded once and the library frames it per connection.
package main

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"switchboard/bench/wscompare/internal/sio"
)

const writeWait = 10 * time.Second

type server struct {
	hub *sio.Hub[*client]
}

type client struct {
	sio.Heartbeat
	ws  *websocket.Conn
	out sio.Outbox[[]byte]
}

func main() {
	s := &server{hub: sio.NewHub[*client]()}
	sio.Main("coder", func(addr string) error { return http.ListenAndServe(addr, s) })
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sio.IsWebSocketRequest(r) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		InsecureSkipVerify: true, // any Origin, like socket.io's default
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return
	}
	c := &client{ws: ws}
	defer func() {
		s.hub.Remove(c)
		c.out.Close()
		ws.CloseNow()
	}()
	ws.SetReadLimit(1_000_000)
	ctx := context.Background()
	if ws.Write(ctx, websocket.MessageText, sio.OpenPacket(sio.NewSID())) != nil {
		return
	}
	for {
		_, p, err := ws.Read(ctx)
		if err != nil {
			return
		}
		switch kind, text := sio.Parse(p); kind {
		case sio.Connect:
			c.send(sio.ConnectPacket())
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

// broadcast encodes the packet once and queues the same bytes for every connection.
func (s *server) broadcast(text []byte) {
	p := sio.AppendBroadcast(nil, text)
	s.hub.Each(func(c *client) { c.send(p) })
}

// send queues p; a connection whose queue is full is closed (its reader then cleans up).
func (c *client) send(p []byte) {
	if !c.out.Push(p, sio.DefaultOutboxLimit, c.flush) {
		c.ws.CloseNow()
	}
}

func (c *client) flush(batch [][]byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), writeWait)
	defer cancel()
	for _, p := range batch {
		if err := c.ws.Write(ctx, websocket.MessageText, p); err != nil {
			c.ws.CloseNow()
			return err
		}
	}
	return nil
}

func (c *client) SendPing() { c.send(sio.Ping) }
func (c *client) Close()    { c.ws.CloseNow() }
