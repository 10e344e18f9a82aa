// Command gws is the wscompare bench server on github.com/lxzan/gws, used the way its README
// recommends for many connections: gws.Server (its own accept loop with pooled read buffers,
// no net/http), event callbacks run on one reading goroutine per connection, writes through
// the library's per-connection async queue, and each broadcast through a gws.Broadcaster
// (framed once, the same bytes written to every connection).
package main

import (
	"bufio"
	"net"
	"net/http"

	"github.com/lxzan/gws"

	"switchboard/bench/wscompare/internal/sio"
)

type server struct {
	hub *sio.Hub[*client]
}

type client struct {
	sio.Heartbeat
	ws *gws.Conn
}

const sessionKey = "c"

func main() {
	s := &server{hub: sio.NewHub[*client]()}
	srv := gws.NewServer(s, &gws.ServerOption{
		ReadMaxPayloadSize: 1_000_000,
		// One slot per connection instead of the default map: this server keeps one value.
		NewSession: func() gws.SessionStorage { return &slot{} },
	})
	upgrade := srv.OnRequest
	srv.OnRequest = func(conn net.Conn, br *bufio.Reader, r *http.Request) {
		if !sio.IsWebSocketRequest(r) {
			conn.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
			conn.Close()
			return
		}
		upgrade(conn, br, r)
	}
	srv.OnError = func(net.Conn, error) {}
	sio.Main("gws", srv.Run)
}

func (s *server) OnOpen(ws *gws.Conn) {
	c := &client{ws: ws}
	ws.Session().Store(sessionKey, c)
	ws.WriteMessage(gws.OpcodeText, sio.OpenPacket(sio.NewSID()))
}

func (s *server) OnClose(ws *gws.Conn, err error) {
	if c := clientOf(ws); c != nil {
		s.hub.Remove(c)
	}
}

func (s *server) OnPing(ws *gws.Conn, payload []byte) { ws.WritePong(payload) }
func (s *server) OnPong(*gws.Conn, []byte)            {}

func (s *server) OnMessage(ws *gws.Conn, m *gws.Message) {
	defer m.Close()
	c := clientOf(ws)
	switch kind, text := sio.Parse(m.Bytes()); kind {
	case sio.Connect:
		ws.WriteAsync(gws.OpcodeText, sio.ConnectPacket(), nil)
		s.hub.Add(c)
	case sio.Pong:
		c.Ponged()
	case sio.Chat:
		b := gws.NewBroadcaster(gws.OpcodeText, sio.AppendBroadcast(nil, text))
		s.hub.Each(func(c *client) { b.Broadcast(c.ws) })
		b.Close()
	case sio.Close:
		ws.NetConn().Close()
	}
}

func clientOf(ws *gws.Conn) *client {
	v, _ := ws.Session().Load(sessionKey)
	c, _ := v.(*client)
	return c
}

func (c *client) SendPing() { c.ws.WriteAsync(gws.OpcodeText, sio.Ping, nil) }
func (c *client) Close()    { c.ws.NetConn().Close() }

// slot is a SessionStorage holding a single value (whatever its key).
type slot struct{ v any }

func (s *slot) Len() int {
	if s.v == nil {
		return 0
	}
	return 1
}
func (s *slot) Load(string) (any, bool) { return s.v, s.v != nil }
func (s *slot) Delete(string)           { s.v = nil }
func (s *slot) Store(_ string, v any)   { s.v = v }
func (s *slot) Range(f func(string, any) bool) {
	if s.v != nil {
		f(sessionKey, s.v)
	}
}
