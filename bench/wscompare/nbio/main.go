// Command nbio is the wscompare bench server on github.com/lesismal/nbio in its low-memory
// mode: nbhttp.Engine with IOModNonBlocking (the default), so every connection is served by
// nbio's epoll pollers with no goroutine per connection and no per-connection read buffer;
// message callbacks run on nbio's task pool; writes are non-blocking (nbio buffers what the
// socket does not take and flushes it when writable). nbio has no prepared-frame API: each
// broadcast's packet is encoded once and framed per connection by WriteMessage.
package main

import (
	"context"
	"net/http"

	"github.com/lesismal/nbio/logging"
	"github.com/lesismal/nbio/nbhttp"
	"github.com/lesismal/nbio/nbhttp/websocket"

	"switchboard/bench/wscompare/internal/sio"
)

type server struct {
	hub      *sio.Hub[*client]
	upgrader *websocket.Upgrader
}

type client struct {
	sio.Heartbeat
	ws *websocket.Conn
}

func main() {
	logging.SetLevel(logging.LevelError)
	s := &server{hub: sio.NewHub[*client](), upgrader: websocket.NewUpgrader()}
	s.upgrader.CheckOrigin = func(*http.Request) bool { return true }
	s.upgrader.KeepaliveTime = 0 // liveness is Engine.IO's ping/pong, not a read deadline
	s.upgrader.OnOpen(func(ws *websocket.Conn) {
		ws.SetSession(&client{ws: ws})
		ws.WriteMessage(websocket.TextMessage, sio.OpenPacket(sio.NewSID()))
	})
	s.upgrader.OnMessage(s.onMessage)
	s.upgrader.OnClose(func(ws *websocket.Conn, err error) {
		if c, ok := ws.Session().(*client); ok {
			s.hub.Remove(c)
		}
	})
	sio.Main("nbio", func(addr string) error {
		engine := nbhttp.NewEngine(nbhttp.Config{
			Network:                 "tcp",
			Addrs:                   []string{addr},
			MaxLoad:                 1_000_000,
			ReleaseWebsocketPayload: true,
			Handler:                 s,
		})
		if err := engine.Start(); err != nil {
			return err
		}
		<-context.Background().Done()
		return nil
	})
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sio.IsWebSocketRequest(r) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.upgrader.Upgrade(w, r, nil)
}

func (s *server) onMessage(ws *websocket.Conn, _ websocket.MessageType, p []byte) {
	c, ok := ws.Session().(*client)
	if !ok {
		return
	}
	switch kind, text := sio.Parse(p); kind {
	case sio.Connect:
		ws.WriteMessage(websocket.TextMessage, sio.ConnectPacket())
		s.hub.Add(c)
	case sio.Pong:
		c.Ponged()
	case sio.Chat:
		packet := sio.AppendBroadcast(nil, text)
		s.hub.Each(func(c *client) { c.ws.WriteMessage(websocket.TextMessage, packet) })
	case sio.Close:
		ws.Close()
	}
}

func (c *client) SendPing() { c.ws.WriteMessage(websocket.TextMessage, sio.Ping) }
func (c *client) Close()    { c.ws.Close() }
