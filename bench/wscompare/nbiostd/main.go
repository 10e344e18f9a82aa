// Command nbiostd is the nbio server behind a standard net/http server, the shape a library
// whose Engine.IO server is an http.Handler needs: the handler upgrades with nbio's Upgrader and
// transfers the connection to an nbhttp.Engine's pollers (UpgradeAndTransferConnToPoller; the
// engine listens on nothing itself), so the idle connection keeps neither net/http's goroutine
// and buffers nor one of its own. Message handling is the same as ../nbio.
package main

import (
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
	engine := nbhttp.NewEngine(nbhttp.Config{ReleaseWebsocketPayload: true})
	s := &server{hub: sio.NewHub[*client](), upgrader: websocket.NewUpgrader()}
	s.upgrader.Engine = engine
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
	sio.Main("nbiostd", func(addr string) error {
		if err := engine.Start(); err != nil {
			return err
		}
		return http.ListenAndServe(addr, s)
	})
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !sio.IsWebSocketRequest(r) {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	s.upgrader.UpgradeAndTransferConnToPoller(w, r, nil)
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
