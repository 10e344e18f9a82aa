// Package sio is the sliver of Engine.IO v4 / Socket.IO v5 that the wscompare servers share:
// just enough for the load generator's wire contract, so that the servers differ only in how
// they use their WebSocket library.
//
// Per connection: the server sends the Engine.IO open packet; the client sends "40" and gets
// "40{"sid":…}"; the server pings ("2") every 25 s and drops a client that has not answered ("3")
// by the next ping; 42["chat message","text"] from anyone is broadcast to everyone as
// 42["chat message",{"username":"bench","message":"text"}].
package sio

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// PingInterval is Node's default pingInterval.
const PingInterval = 25 * time.Second

// NewSID returns a random 20-character id, the length Node's engine.io uses.
func NewSID() string {
	var b [15]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// OpenPacket is the Engine.IO open packet for sid.
func OpenPacket(sid string) []byte {
	return []byte(`0{"sid":"` + sid + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
}

// ConnectPacket is the Socket.IO CONNECT reply for namespace "/".
func ConnectPacket() []byte { return []byte(`40{"sid":"` + NewSID() + `"}`) }

// Ping is the Engine.IO ping packet.
var Ping = []byte("2")

// IsWebSocketRequest reports whether r asks for the Engine.IO v4 WebSocket transport at
// /socket.io/.
func IsWebSocketRequest(r *http.Request) bool {
	q := r.URL.Query()
	return r.URL.Path == "/socket.io/" && q.Get("EIO") == "4" && q.Get("transport") == "websocket"
}

// Kind says what a client packet asks of the server.
type Kind int

const (
	Other   Kind = iota // ignored
	Connect             // "40" (optionally with an auth payload): answer with ConnectPacket
	Pong                // "3"
	Chat                // 42["chat message","…"]: broadcast
	Close               // "1": the client is leaving
)

var chatPrefix = []byte(`42["chat message",`)

// Parse classifies one Engine.IO packet from a client. For Chat, text is the message as a
// JSON string token (quotes and escapes included), a sub-slice of p.
func Parse(p []byte) (k Kind, text []byte) {
	switch {
	case len(p) == 1 && p[0] == '3':
		return Pong, nil
	case len(p) == 1 && p[0] == '1':
		return Close, nil
	case len(p) >= 2 && p[0] == '4' && p[1] == '0' && (len(p) == 2 || p[2] == '{'):
		return Connect, nil
	case bytes.HasPrefix(p, chatPrefix):
		rest := p[len(chatPrefix):]
		n := jsonStringLen(rest)
		if n > 0 && len(rest) == n+1 && rest[n] == ']' {
			return Chat, rest[:n]
		}
	}
	return Other, nil
}

// jsonStringLen returns the length of the JSON string token at the start of b, or 0 if b does
// not start with a well-formed one.
func jsonStringLen(b []byte) int {
	if len(b) < 2 || b[0] != '"' {
		return 0
	}
	for i := 1; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			i++ // the escaped character; \uXXXX's digits are plain characters
		case c < 0x20:
			return 0
		}
	}
	return 0
}

// AppendBroadcast appends the packet that broadcasts text (a JSON string token from Parse).
func AppendBroadcast(dst, text []byte) []byte {
	dst = append(dst, `42["chat message",{"username":"bench","message":`...)
	dst = append(dst, text...)
	return append(dst, "}]"...)
}

// Heartbeat is the per-connection ping state; embed it in the connection type.
type Heartbeat struct{ awaiting atomic.Bool }

// Ponged records a pong.
func (h *Heartbeat) Ponged() { h.awaiting.Store(false) }

// Beat returns the heartbeat itself, so that embedding it satisfies Member.
func (h *Heartbeat) Beat() *Heartbeat { return h }

// Member is what a Hub needs of a connection.
type Member interface {
	comparable
	Beat() *Heartbeat
	SendPing()
	Close()
}

// Hub is the registry of open connections: the "room" every broadcast goes to.
// Safe for concurrent use.
type Hub[C Member] struct {
	mu    sync.RWMutex
	conns map[C]struct{}
	pool  sync.Pool // *[]C snapshots for Each
}

// NewHub returns an empty hub whose heartbeat runs until the process exits.
func NewHub[C Member]() *Hub[C] {
	h := &Hub[C]{conns: make(map[C]struct{})}
	go h.heartbeat()
	return h
}

// Add registers c.
func (h *Hub[C]) Add(c C) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
}

// Remove unregisters c; removing an absent connection is a no-op.
func (h *Hub[C]) Remove(c C) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
}

// Len returns the number of registered connections.
func (h *Hub[C]) Len() int {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return len(h.conns)
}

// Each calls f for every registered connection, outside the hub's lock (f may block or remove).
func (h *Hub[C]) Each(f func(C)) {
	p, _ := h.pool.Get().(*[]C)
	if p == nil {
		p = new([]C)
	}
	h.mu.RLock()
	s := (*p)[:0]
	for c := range h.conns {
		s = append(s, c)
	}
	h.mu.RUnlock()
	for _, c := range s {
		f(c)
	}
	clear(s)
	*p = s[:0]
	h.pool.Put(p)
}

// heartbeat pings every connection each PingInterval and closes those that did not answer the
// previous ping (Node closes after pingTimeout, 20 s; here it is by the next ping, 25 s).
func (h *Hub[C]) heartbeat() {
	t := time.NewTicker(PingInterval)
	defer t.Stop()
	for range t.C {
		h.Each(func(c C) {
			if c.Beat().awaiting.Swap(true) {
				c.Close()
				return
			}
			c.SendPing()
		})
	}
}
