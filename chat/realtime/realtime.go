// Package realtime is the chat room's Socket.IO side: sockets authenticated
// by the session cookie, presence ("user count", "user"), and chat messages
// with history, validation and rate limits. The handlers are in handlers.go.
package realtime

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/chat"
	"switchboard/engineio"
	"switchboard/socketio"
	"switchboard/socketio/adapter"
)

// Source is the Go source of the socket handlers (handlers.go), embedded
// from the file that is compiled: the freeCodeCamp checker reads it at
// /_api/server.js.
//
//go:embed handlers.go
var Source []byte

// Config is what the realtime server needs from the rest of the program.
type Config struct {
	// Authenticate resolves a request's session cookie to its user; an error
	// with code chat.EUNAUTHORIZED means "not logged in".
	Authenticate func(*http.Request) (*chat.User, error)
	// SessionKey identifies the login session of a request (optional); the
	// sockets opened with a session are disconnected by EndSession.
	SessionKey func(*http.Request) string
	// CheckOrigin vets a handshake's Origin; refused handshakes never reach
	// the sockets (this stops cross-site WebSocket hijacking).
	CheckOrigin func(*http.Request) bool
	Presence    *chat.Presence
	Poster      *chat.Poster
	Messages    chat.MessageService

	// PingInterval and PingTimeout tune how fast a lost client is noticed
	// (defaults 25 s and 20 s).
	PingInterval time.Duration
	PingTimeout  time.Duration

	// MaxTabsPerUser is the most sockets (browser tabs) one user may have
	// open at once: one more is refused with a connect_error saying so,
	// which keeps a single account from holding the server's memory and
	// file descriptors. 0 means DefaultMaxTabsPerUser; negative, no limit.
	MaxTabsPerUser int

	Logger *slog.Logger

	// adapter replaces the in-memory adapter (tests: one that records
	// what a cluster adapter would carry to other servers).
	adapter adapter.Factory
}

// Server is the chat's Socket.IO server: an http.Handler for /socket.io/.
type Server struct {
	cfg      Config
	log      *slog.Logger
	io       *socketio.Server
	presence *chat.Presence
	history  *history
	// online names the users presence counts (for "online users"); under
	// announceMu.
	online online
	// earlier, whoAsks and typing limit each user's "earlier messages"
	// (each a query of the store), "online users" (each queued with the
	// announcements) and "typing" notices (each a broadcast).
	earlier, whoAsks, typing *chat.RateLimiter

	// announceMu makes a presence change and its announcement one step:
	// without it two joins racing could announce their counts in the
	// opposite order, leaving everyone with a stale "user count".
	announceMu sync.Mutex
	// closing is set, under announceMu, when Shutdown begins: from then
	// on departures are announced only to the sockets that stay.
	closing bool
	// pending holds the announcements not sent yet, in change order, and
	// announcing tells whether one of their owners has the turn to send
	// (see announce.go); both under announceMu.
	pending    []*announcement
	announcing bool
	// postMu makes storing a message, broadcasting it and adding it to the
	// cached history one step, so that all three agree on the order of
	// messages posted at the same time.
	postMu sync.Mutex

	// sessionsMu orders EndSession against joining sockets; sessionEnds
	// counts EndSession calls. A socket whose cookie was checked before a
	// session ended, but which joined the namespace after EndSession looked
	// for that session's sockets, sees the count changed and checks again.
	sessionsMu  sync.Mutex
	sessionEnds uint64

	// tabs counts each user's sockets, from their authentication until
	// they end (see takeTab).
	tabsMu  sync.Mutex
	tabs    map[int64]int
	maxTabs int // 0: no limit
}

// DefaultMaxTabsPerUser is the number of sockets one user may have open
// when Config.MaxTabsPerUser is 0.
const DefaultMaxTabsPerUser = 32

// takeTab counts one more socket of the user, or reports false if the user
// has as many as allowed.
func (rt *Server) takeTab(userID int64) bool {
	rt.tabsMu.Lock()
	defer rt.tabsMu.Unlock()
	if rt.maxTabs > 0 && rt.tabs[userID] >= rt.maxTabs {
		return false
	}
	rt.tabs[userID]++
	return true
}

// giveBackTab counts one socket of the user less.
func (rt *Server) giveBackTab(userID int64) {
	rt.tabsMu.Lock()
	defer rt.tabsMu.Unlock()
	if rt.tabs[userID] <= 1 {
		delete(rt.tabs, userID)
		return
	}
	rt.tabs[userID]--
}

// testHookBeforeHistory, if set, runs in a joining socket's connection
// handler after it is announced and before its history is taken (tests
// only).
var testHookBeforeHistory atomic.Pointer[func()]

// ErrOrigin refuses a handshake from a foreign origin.
var ErrOrigin = errors.New("origin not allowed")

// New returns the chat's realtime server.
func New(cfg Config) (*Server, error) {
	if cfg.Authenticate == nil || cfg.Presence == nil || cfg.Poster == nil || cfg.Messages == nil {
		return nil, errors.New("realtime: Authenticate, Presence, Poster and Messages are required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rt := &Server{cfg: cfg, log: log, presence: cfg.Presence, history: newHistory(cfg.Messages, chat.HistorySize), tabs: make(map[int64]int),
		earlier: chat.NewRateLimiter(2, time.Second, 5, nil),  // once per 50 messages read back
		whoAsks: chat.NewRateLimiter(5, time.Second, 10, nil), // once per opening of the list
		typing:  chat.NewRateLimiter(1, time.Second, 3, nil),  // every 2 s per tab while typing
	}
	switch {
	case cfg.MaxTabsPerUser == 0:
		rt.maxTabs = DefaultMaxTabsPerUser
	case cfg.MaxTabsPerUser > 0:
		rt.maxTabs = cfg.MaxTabsPerUser
	}
	check := cfg.CheckOrigin
	rt.io = socketio.NewServer(&socketio.Options{
		Engine: engineio.Options{
			PingInterval: cfg.PingInterval,
			PingTimeout:  cfg.PingTimeout,
			AllowRequest: func(r *http.Request) error {
				if check != nil && !check(r) {
					return ErrOrigin
				}
				return nil
			},
			OnConnectionError: func(r *http.Request, err *engineio.RequestError) {
				log.Debug("realtime: refused a request", "code", err.Code, "message", err.Message, "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "user_agent", r.UserAgent())
			},
		},
		Adapter: cfg.adapter,
		Logger:  log,
	})
	rt.register(rt.io)
	return rt, nil
}

// Socket returns the underlying Socket.IO server.
func (rt *Server) Socket() *socketio.Server { return rt.io }

// ServeHTTP serves /socket.io/ (and the client bundle).
func (rt *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { rt.io.ServeHTTP(w, r) }

// sessionEnded is what a socket of an ended session hears just before it is
// disconnected: an "error message" whose code tells the page to offer the
// login rather than a reload.
var sessionEnded = map[string]string{
	"error": "Your session has ended (you logged out, or it expired).",
	"code":  chat.EUNAUTHORIZED,
}

// EndSession disconnects the sockets opened with the login session key
// (on logout, and when it expires): they are told why ("error message"
// with code "unauthorized"), then their clients see "io server disconnect"
// and do not reconnect by themselves.
func (rt *Server) EndSession(key string) {
	if key == "" {
		return
	}
	rt.sessionsMu.Lock()
	rt.sessionEnds++
	sockets := rt.io.Of("/").Sockets()
	rt.sessionsMu.Unlock()
	for _, s := range sockets {
		if c, ok := s.Data().(*member); ok && c.session == key {
			_ = s.Emit("error message", sessionEnded)
			s.Disconnect(true)
		}
	}
}

// sessionEndsNow returns the number of EndSession calls so far.
func (rt *Server) sessionEndsNow() uint64 {
	rt.sessionsMu.Lock()
	defer rt.sessionsMu.Unlock()
	return rt.sessionEnds
}

// Shutdown disconnects every socket ("server shutting down") and waits for
// their handlers, or for ctx. Each user who goes offline is announced, as
// on any disconnection, but only to the sockets that stay — those of the
// other servers of a cluster; nobody on a single server. The sockets of
// this server, being disconnected, would hear of every other user leaving:
// with N users online, N² sends for nothing.
func (rt *Server) Shutdown(ctx context.Context) error {
	rt.announceMu.Lock()
	if !rt.closing {
		rt.closing = true
		_ = rt.io.Local().SocketsLeave(presenceRoom)
	}
	rt.announceMu.Unlock()
	return rt.io.Close(ctx)
}

// replacedInvalid reports whether decoding the JSON string raw into s
// replaced something that is not Unicode text — a lone UTF-16 surrogate
// escape, a byte that is not UTF-8 — with U+FFFD, as encoding/json does:
// s then holds more U+FFFD than raw spells out.
func replacedInvalid(raw []byte, s string) bool {
	n := strings.Count(s, "\uFFFD")
	if n == 0 {
		return false
	}
	spelled := 0
	for i := 0; i < len(raw); i++ {
		switch {
		case raw[i] == '\\' && i+5 < len(raw) && raw[i+1] == 'u' && strings.EqualFold(string(raw[i+2:i+6]), "fffd"):
			spelled++
			i += 5
		case raw[i] == '\\':
			i++ // the escaped character
		case bytes.HasPrefix(raw[i:], []byte("\uFFFD")):
			spelled++
			i += 2
		}
	}
	return n > spelled
}
