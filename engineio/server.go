// Package engineio is an Engine.IO protocol v4 server: handshake, sessions,
// HTTP long-polling and WebSocket transports, the polling→WebSocket upgrade
// and the heartbeat, answering exactly as Node's engine.io does.
//
// A Server is an http.Handler; mount it at its path ("/engine.io/" by
// default) and, for clients with addTrailingSlash: false, at the path
// without its trailing slash. It hands sessions to a Handler, the seam to
// the protocol above (Socket.IO): three callbacks — open, message, close —
// that it serializes per session. Applications use package socketio, which
// provides the Handler; this package is for the protocol layer.
//
// Sending never blocks on the network: Session.Send queues, bounded by
// Options.MaxQueuedBytes (a client that does not keep up is disconnected).
// The only call that waits, Server.Close, takes a context.Context. Send
// fails with ErrSessionClosed (check it with errors.Is); the *RequestError
// values (ErrUnknownSID…) are how refused HTTP requests are answered.
package engineio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/engineio/internal/wsconn"
)

// Handler receives the sessions of a Server. For one session, calls are
// never concurrent, OnOpen is the first and OnClose the last, exactly once;
// calls for different sessions run in parallel. OnOpen runs on the
// handshake's request goroutine, before the client gets its open packet
// over polling. OnMessage runs on the transport's reader (an epoll loop
// shared with other connections, for WebSocket): it must not block — hand
// long work to another goroutine. data is valid only during the call.
// OnClose's err, possibly nil, gives details of reason (a parse error, a
// failed write…).
type Handler interface {
	OnOpen(s *Session)
	OnMessage(s *Session, data []byte, binary bool)
	OnClose(s *Session, reason CloseReason, err error)
}

// Server is an Engine.IO server. It is safe for concurrent use.
type Server struct {
	cfg      config
	handler  Handler
	ws       *wsconn.Engine
	ctl      controls
	sessions registry
	closing  atomic.Bool
	closed   chan struct{} // closed when the first Close returns
}

// NewServer returns a Server delivering sessions to h; nil opts means the
// defaults (see Options). Its goroutines start with the first connections;
// Close releases them.
func NewServer(h Handler, opts *Options) *Server {
	cfg := newConfig(opts)
	srv := &Server{cfg: cfg, handler: h, ctl: newControls(), closed: make(chan struct{})}
	srv.ws = wsconn.NewEngine(&wsconn.Options{
		MaxMessageSize: cfg.MaxHTTPBufferSize,
		MaxQueuedBytes: cfg.MaxQueuedBytes,
		DisableNetpoll: cfg.DisableNetpoll,
		Deflate:        cfg.PerMessageDeflate != nil,
		Logger:         cfg.log,
	})
	srv.sessions.init()
	return srv
}

// Path returns the path prefix the server answers, with its trailing slash.
func (srv *Server) Path() string { return srv.cfg.Path }

// Count returns the number of open sessions.
func (srv *Server) Count() int { return int(srv.sessions.count.Load()) }

// Session returns the open session with the given id (ok is false for an
// unknown or closed one).
func (srv *Server) Session(id string) (*Session, bool) {
	s := srv.sessions.get(id)
	return s, s != nil
}

// ServeHTTP answers Engine.IO requests under the server's path, and at the
// path without its trailing slash (see Options.Path); others get 404.
// Refused requests are answered as Node does (see RequestError); new
// sessions after Close get 503.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; !strings.HasPrefix(p, srv.cfg.Path) && p != srv.cfg.Path[:len(srv.cfg.Path)-1] {
		http.NotFound(w, r)
		return
	}
	if srv.cfg.CORS != nil && srv.cfg.CORS.apply(w, r) {
		return // preflight answered
	}
	q := parseQuery(r.URL.RawQuery)
	upgrade := isWebSocketUpgrade(r)
	write := writeRequestError
	if upgrade {
		write = writeUpgradeError
	}
	fail := func(w http.ResponseWriter, err *RequestError) {
		if hook := srv.cfg.OnConnectionError; hook != nil {
			hook(r, err)
		}
		write(w, err)
	}

	transport := q.transport
	if !srv.cfg.transports[transport] {
		fail(w, ErrUnknownTransport)
		return
	}
	if transport == TransportWebSocket && !upgrade {
		fail(w, ErrBadRequest)
		return
	}
	if q.sid != "" {
		s := srv.sessions.get(q.sid)
		if s == nil {
			fail(w, ErrUnknownSID)
			return
		}
		if !upgrade && s.Transport() != transport {
			fail(w, ErrBadRequest) // transport mismatch: e.g. polling after upgrade
			return
		}
		switch {
		case upgrade:
			srv.upgrade(s, w, r, q.b64)
		case r.Method == http.MethodGet:
			s.servePoll(w, r)
		case r.Method == http.MethodPost:
			s.servePost(w, r)
		default:
			fail(w, ErrBadRequest)
		}
		return
	}
	if r.Method != http.MethodGet {
		fail(w, ErrBadHandshakeMethod)
		return
	}
	if allow := srv.cfg.AllowRequest; allow != nil {
		if err := allow(r); err != nil {
			fail(w, &RequestError{Code: ErrForbidden.Code, Message: err.Error()})
			return
		}
	}
	if q.eio != "4" {
		fail(w, ErrUnsupportedProtocol)
		return
	}
	if srv.closing.Load() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	srv.handshake(transport, w, r, q.b64)
}

func (srv *Server) newSession(r *http.Request, transport string) *Session {
	s := &Session{
		srv:       srv,
		id:        newID(),
		transport: transport,
		req: Request{
			Header:     sessionHeader(r.Header, transport == TransportWebSocket),
			RequestURI: r.RequestURI,
			Host:       r.Host,
			RemoteAddr: r.RemoteAddr,
			TLS:        r.TLS != nil,
			Time:       time.Now(),
		},
	}
	if transport == TransportPolling {
		s.pollWake = make(chan struct{}, 1)
	}
	return s
}

func (srv *Server) openPacket(s *Session, transport string) *Packet {
	upgrades := "[]"
	if transport == TransportPolling && srv.cfg.allowUpgrade {
		upgrades = `["websocket"]`
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"sid":"`...)
	b = append(b, s.id...)
	b = append(b, `","upgrades":`...)
	b = append(b, upgrades...)
	b = append(b, `,"pingInterval":`...)
	b = strconv.AppendInt(b, srv.cfg.PingInterval.Milliseconds(), 10)
	b = append(b, `,"pingTimeout":`...)
	b = strconv.AppendInt(b, srv.cfg.PingTimeout.Milliseconds(), 10)
	b = append(b, `,"maxPayload":`...)
	b = strconv.AppendInt(b, srv.cfg.MaxHTTPBufferSize, 10)
	b = append(b, '}')
	return &Packet{typ: 0, data: b} // type 0: open
}

// handshake opens a session. b64 (the request's b64 parameter) asks for
// binary messages as base64 text frames over WebSocket.
func (srv *Server) handshake(transport string, w http.ResponseWriter, r *http.Request, b64 bool) {
	if transport == TransportWebSocket {
		conn, err := srv.ws.Upgrade(w, r, srv.wsHeaders(r, true))
		if err != nil {
			srv.cfg.log.Debug("engineio: websocket handshake failed", "err", err)
			return
		}
		s := srv.newSession(r, transport)
		s.ws = conn
		s.wsB64.Store(b64)
		s.wsc.Store(conn)
		_ = conn.Send(true, srv.openPacket(s, transport).wsFrame())
		srv.sessions.add(s)
		s.open()
		srv.closeIfClosing(s)
		s.startHeartbeat()
		conn.Start(&wsTransport{s: s})
		return
	}
	s := srv.newSession(r, transport)
	open := srv.openPacket(s, transport)
	srv.sessions.add(s)
	s.open()
	srv.closeIfClosing(s)
	s.startHeartbeat()
	if srv.cfg.Cookie != nil {
		w.Header().Add("Set-Cookie", srv.cfg.Cookie.httpCookie(s.id).String())
	}
	srv.addHeaders(w.Header(), r, true)
	body := open.appendPolling(nil)
	srv.writePayload(w, r, body, true)
}

// closeIfClosing closes a session added to the registry after Server.Close
// started: the handshake passed its closing check before Close set it, and
// Close's sweep of the registry may have missed the session. Close sets
// closing before the sweep and the handshake adds the session before this
// check, so one of the two always sees the other.
func (srv *Server) closeIfClosing(s *Session) {
	if srv.closing.Load() {
		s.closeWith(ReasonServerShutdown, nil, false)
	}
}

// Close shuts the server down: new handshakes are refused (503), every
// session closes with ReasonServerShutdown, WebSockets get a close frame,
// and Close waits until they are gone or ctx ends: it then cuts the rest
// and returns ctx.Err(). A poll waiting for packets is answered with a
// close packet. A later call waits for the same shutdown (until its own
// ctx ends) and returns nil once it is complete, as http.Server.Shutdown.
// It does not stop the http.Server serving it: call it before the
// http.Server's Shutdown.
func (srv *Server) Close(ctx context.Context) error {
	if srv.closing.Swap(true) {
		select {
		case <-srv.closed:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	defer close(srv.closed)
	srv.sessions.each(func(s *Session) {
		s.closeWith(ReasonServerShutdown, nil, false)
		// Also a session closed earlier that still waits for the client's
		// next poll (a waiting poll still gets its close packet).
		s.release()
	})
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var err error
	for srv.ws.Live() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
			continue
		}
		break
	}
	srv.ws.Close()
	return err
}

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

func isWebSocketUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

type query struct {
	eio, transport, sid string
	b64                 bool // the client wants binary as base64 text (forceBase64)
}

// parseQuery extracts the Engine.IO parameters without allocating a map.
func parseQuery(raw string) query {
	var q query
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "EIO":
			q.eio = unescape(v)
		case "transport":
			q.transport = unescape(v)
		case "sid":
			q.sid = unescape(v)
		case "b64":
			q.b64 = v != "" // as Node: any non-empty value
		}
	}
	return q
}

func unescape(v string) string {
	if strings.ContainsAny(v, "%+") {
		if u, err := urlUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// registry holds the open sessions, sharded to keep lock contention low.
type registry struct {
	shards [32]struct {
		mu sync.RWMutex
		m  map[string]*Session
	}
	count atomic.Int64
}

func (g *registry) init() {
	for i := range g.shards {
		g.shards[i].m = make(map[string]*Session)
	}
}

func (g *registry) shard(id string) int {
	if id == "" {
		return 0
	}
	return int(id[len(id)-1]) & 31
}

func (g *registry) add(s *Session) {
	sh := &g.shards[g.shard(s.id)]
	sh.mu.Lock()
	sh.m[s.id] = s
	sh.mu.Unlock()
	g.count.Add(1)
}

func (g *registry) get(id string) *Session {
	sh := &g.shards[g.shard(id)]
	sh.mu.RLock()
	s := sh.m[id]
	sh.mu.RUnlock()
	return s
}

func (g *registry) remove(s *Session) {
	sh := &g.shards[g.shard(s.id)]
	sh.mu.Lock()
	if sh.m[s.id] == s {
		delete(sh.m, s.id)
		g.count.Add(-1)
	}
	sh.mu.Unlock()
}

func (g *registry) each(fn func(*Session)) {
	for i := range g.shards {
		sh := &g.shards[i]
		sh.mu.RLock()
		list := make([]*Session, 0, len(sh.m))
		for _, s := range sh.m {
			list = append(list, s)
		}
		sh.mu.RUnlock()
		for _, s := range list {
			fn(s)
		}
	}
}
