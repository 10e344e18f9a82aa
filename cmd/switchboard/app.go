package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/chat"
	"switchboard/chat/realtime"
	"switchboard/chat/sqlite"
	"switchboard/chat/web"
)

// Realtime is the Socket.IO server as Main sees it: an http.Handler mounted
// at /socket.io/ that can be shut down.
type Realtime interface {
	http.Handler
	// Shutdown tells every connected client that the server is going away,
	// closes their connections and returns when they are gone or ctx is
	// done.
	Shutdown(ctx context.Context) error
}

// RealtimeDeps is what the Socket.IO server gets from the rest of the
// program.
type RealtimeDeps struct {
	Users    chat.UserService
	Messages chat.MessageService // RecentMessages(ctx, chat.HistorySize) for "chat history"
	Presence *chat.Presence      // Connect/Disconnect per socket; currentUsers
	Poster   *chat.Poster        // Post(ctx, user, text) for every "chat message"

	// Authenticate resolves a handshake request's session cookie to the
	// logged-in user; its error has code chat.EUNAUTHORIZED when there is
	// no valid session.
	Authenticate func(*http.Request) (*chat.User, error)
	// SessionKey identifies a request's login session (see
	// web.SessionKey); EndSession, which the realtime server sets, is
	// called with it on logout.
	SessionKey func(*http.Request) string

	// CheckOrigin reports whether the handshake's Origin may connect (the
	// server's own origin and the configured AllowedOrigins).
	CheckOrigin    func(*http.Request) bool
	AllowedOrigins []string

	Logger *slog.Logger
}

// Main is the running program. Tests create one with NewMain, adjust
// Config (Addr "127.0.0.1:0", a temporary DBPath), call Run, talk to URL()
// and Close it.
type Main struct {
	Config Config
	Logger *slog.Logger // discarded if nil

	// NewRealtime, if set, builds the Socket.IO server during Run; it is
	// mounted at /socket.io/ and shut down first on Close.
	NewRealtime func(RealtimeDeps) (Realtime, error)

	// Now is the clock (time.Now if nil).
	Now func() time.Time

	// SessionSweepInterval is how often expired sessions are deleted from
	// the database, and their sockets disconnected (every minute if 0: an
	// indexed DELETE, and an expired login's open socket lasts at most that).
	SessionSweepInterval time.Duration

	// Set by Run.
	DB       *sqlite.DB
	Users    *sqlite.UserService
	Sessions *sqlite.SessionService
	Messages *sqlite.MessageService
	Presence *chat.Presence
	Poster   *chat.Poster
	Web      *web.Server
	Realtime Realtime

	mu           sync.Mutex
	shuttingDown atomic.Bool // set when Close starts: /healthz answers 503
	onShutdown   []func(context.Context) error
	httpServer   *http.Server
	fresh        freshConns
	listener     net.Listener
	serveErr     chan error
	stopSweep    context.CancelFunc
	sweepDone    chan struct{}
	closeOnce    sync.Once
	closeErr     error
}

// NewMain returns a Main with the default configuration and the chat's
// realtime server (package realtime), whose handler source is what
// /_api/server.js serves in freeCodeCamp testing mode.
func NewMain() *Main {
	m := &Main{Config: DefaultConfig()}
	m.Config.ServerSource = realtime.Source
	m.NewRealtime = func(d RealtimeDeps) (Realtime, error) {
		return realtime.New(realtime.Config{
			Authenticate: d.Authenticate,
			SessionKey:   d.SessionKey,
			CheckOrigin:  d.CheckOrigin,
			Presence:     d.Presence,
			Poster:       d.Poster,
			Messages:     d.Messages,
			PingInterval: m.Config.PingInterval,
			PingTimeout:  m.Config.PingTimeout,
			// The flag's 0 ("no limit") is the Config's negative.
			MaxTabsPerUser: cmp.Or(m.Config.MaxTabs, -1),
			Logger:         d.Logger,
		})
	}
	return m
}

// OnShutdown registers f to run on Close, after the HTTP server and the
// realtime server have stopped and before the database closes. Hooks run
// in reverse order of registration.
func (m *Main) OnShutdown(f func(context.Context) error) {
	m.mu.Lock()
	m.onShutdown = append(m.onShutdown, f)
	m.mu.Unlock()
}

func (m *Main) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// Run opens the database, wires the services and starts serving on
// Config.Addr in the background. It returns once the server is listening;
// ServeErr reports a later failure. Call Close even when Run fails.
func (m *Main) Run(ctx context.Context) error {
	if m.Logger == nil {
		m.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg := m.Config

	m.DB = sqlite.NewDB(cfg.DBPath)
	m.DB.Now = m.now
	if err := m.DB.Open(ctx); err != nil {
		return fmt.Errorf("--db/DATABASE: %w", err)
	}
	m.Users = sqlite.NewUserService(m.DB)
	m.Sessions = sqlite.NewSessionService(m.DB)
	m.Messages = sqlite.NewMessageService(m.DB)
	m.Presence = chat.NewPresence()
	m.Poster = chat.NewPoster(m.Messages, m.now)

	var err error
	// The CSRF key lives in the database: forms opened before a restart
	// still post after it.
	csrfKey, err := m.DB.Secret(ctx, "csrf", 32)
	if err != nil {
		return err
	}
	m.Web, err = web.NewServer(web.Config{
		BcryptCost:     cfg.BcryptCost,
		SessionTTL:     cfg.SessionTTL,
		CSRFKey:        csrfKey,
		BehindTLS:      cfg.BehindTLS,
		TrustProxy:     cfg.TrustProxy,
		AllowedOrigins: cfg.AllowedOrigins,
		FCCTesting:     cfg.FCCTesting,
		ServerSource:   cfg.ServerSource,
		GitHub:         cfg.GitHub,
	}, m.Users, m.Sessions)
	if err != nil {
		return err
	}
	m.Web.Logger = m.Logger
	m.Web.Now = m.now
	m.Web.OnlineCount = m.Presence.Count
	m.Web.Health = m.health

	if m.NewRealtime != nil {
		m.Realtime, err = m.NewRealtime(RealtimeDeps{
			Users:          m.Users,
			Messages:       m.Messages,
			Presence:       m.Presence,
			Poster:         m.Poster,
			Authenticate:   m.Web.Authenticate,
			SessionKey:     web.SessionKey,
			CheckOrigin:    m.Web.CheckOrigin,
			AllowedOrigins: m.Web.AllowedOrigins(),
			Logger:         m.Logger,
		})
		if err != nil {
			return fmt.Errorf("realtime: %w", err)
		}
		m.Web.Realtime = m.Realtime
		if ender, ok := m.Realtime.(interface{ EndSession(key string) }); ok {
			m.Web.OnSessionEnd = ender.EndSession
		}
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("--addr/PORT: %w", err)
	}
	m.listener = ln
	m.httpServer = &http.Server{
		Handler:           m.Web.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.Logger.Handler(), slog.LevelWarn),
		ConnState:         m.fresh.track,
	}
	m.serveErr = make(chan error, 1)
	// Said before the first request can be served (and logged): the
	// program's first line is where it listens.
	m.Logger.Info("switchboard is listening", "url", m.URL(), "db", cfg.DBPath,
		"fcc_testing", cfg.FCCTesting, "github_login", cfg.GitHub.Enabled())
	go func() {
		if err := m.httpServer.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.serveErr <- err
		}
	}()

	sweepCtx, cancel := context.WithCancel(context.Background())
	m.stopSweep, m.sweepDone = cancel, make(chan struct{})
	go m.sweepSessions(sweepCtx)
	return nil
}

// errShuttingDown is what the health check reports once Close has started.
var errShuttingDown = errors.New("shutting down")

// health is GET /healthz's check: healthy while not shutting down and the
// database answers within two seconds.
func (m *Main) health(ctx context.Context) error {
	if m.shuttingDown.Load() {
		return errShuttingDown
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return m.DB.Ping(ctx)
}

// sweepSessions deletes expired sessions now and every
// SessionSweepInterval until ctx is cancelled.
func (m *Main) sweepSessions(ctx context.Context) {
	defer close(m.sweepDone)
	interval := m.SessionSweepInterval
	if interval <= 0 {
		interval = time.Minute
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ids, err := m.Sessions.DeleteExpiredSessions(ctx, m.now())
		if err != nil && ctx.Err() == nil {
			m.Logger.Warn("deleting expired sessions", "err", err)
		}
		if len(ids) > 0 {
			m.Logger.Debug("deleted expired sessions", "count", len(ids))
		}
		if end := m.Web.OnSessionEnd; end != nil {
			for _, id := range ids { // their sockets go too, as on logout
				end(id)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// freshConns tracks the HTTP connections in state New: accepted, no
// request read yet.
type freshConns struct {
	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

func (f *freshConns) track(c net.Conn, state http.ConnState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state == http.StateNew {
		if f.conns == nil {
			f.conns = make(map[net.Conn]struct{})
		}
		f.conns[c] = struct{}{}
		return
	}
	delete(f.conns, c)
}

func (f *freshConns) closeAll() {
	f.mu.Lock()
	conns := make([]net.Conn, 0, len(f.conns))
	for c := range f.conns {
		conns = append(conns, c)
	}
	f.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

// Addr returns the address the server listens on, such as
// "127.0.0.1:43125" ("" before Run).
func (m *Main) Addr() string {
	if m.listener == nil {
		return ""
	}
	return m.listener.Addr().String()
}

// URL returns the server's base URL, such as "http://127.0.0.1:43125"
// (a wildcard host is shown as localhost).
func (m *Main) URL() string {
	host, port, err := net.SplitHostPort(m.Addr())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// ServeErr delivers the error that stopped serving, if serving fails
// before Close.
func (m *Main) ServeErr() <-chan error { return m.serveErr }

// ErrShutdownTimeout is returned by Close when Config.ShutdownTimeout ran
// out before every connection had ended.
var ErrShutdownTimeout = errors.New("shutdown timed out")

// Close shuts the program down gracefully, within Config.ShutdownTimeout
// (after Config.ShutdownDelay, during which /healthz answers 503 and
// everything else is still served): it stops accepting connections, has
// the realtime server tell its clients goodbye, waits for requests in
// flight, runs the OnShutdown hooks, stops the session sweeper and closes
// the database. It is safe to call more than
// once and after a failed Run.
func (m *Main) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.close() })
	return m.closeErr
}

func (m *Main) close() error {
	m.shuttingDown.Store(true)
	if d := m.Config.ShutdownDelay; d > 0 && m.httpServer != nil {
		// Load balancers polling /healthz see 503 and stop sending new
		// traffic while what they already sent is still served.
		m.Logger.Info("draining: /healthz answers 503, still serving", "shutdown_delay", d)
		time.Sleep(d)
	}
	timeout := m.Config.ShutdownTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var errs []error

	if m.httpServer != nil {
		// Shutdown closes the listeners first, then runs the OnShutdown
		// functions: the realtime server says goodbye to clients (ending
		// long-polls and WebSockets, which Shutdown does not track) while
		// Shutdown waits for the other requests.
		realtimeDone := make(chan error, 1)
		if m.Realtime != nil {
			m.httpServer.RegisterOnShutdown(func() { realtimeDone <- m.Realtime.Shutdown(ctx) })
		} else {
			realtimeDone <- nil
		}
		// Connections that have sent no request yet (browsers open spare
		// ones ahead of need) are closed at once: Shutdown would wait 5 s
		// for them, only to drop whatever request they then send.
		m.httpServer.RegisterOnShutdown(m.fresh.closeAll)
		httpErr := m.httpServer.Shutdown(ctx)
		if httpErr != nil {
			m.httpServer.Close()
		}
		rtErr := <-realtimeDone
		if errors.Is(httpErr, context.DeadlineExceeded) || errors.Is(rtErr, context.DeadlineExceeded) {
			errs = append(errs, fmt.Errorf("%w: the --shutdown-timeout of %v ran out; requests and sockets still open were cut off",
				ErrShutdownTimeout, timeout))
		} else {
			if httpErr != nil {
				errs = append(errs, fmt.Errorf("http shutdown: %w", httpErr))
			}
			if rtErr != nil {
				errs = append(errs, fmt.Errorf("realtime shutdown: %w", rtErr))
			}
		}
	} else if m.Realtime != nil {
		if err := m.Realtime.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("realtime shutdown: %w", err))
		}
	}

	m.mu.Lock()
	hooks := m.onShutdown
	m.mu.Unlock()
	for i := len(hooks) - 1; i >= 0; i-- {
		if err := hooks[i](ctx); err != nil {
			errs = append(errs, err)
		}
	}

	if m.stopSweep != nil {
		m.stopSweep()
		<-m.sweepDone
	}
	if m.DB != nil {
		if err := m.DB.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	return errors.Join(errs...)
}
