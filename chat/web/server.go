// Package web serves the chat's HTML pages and accounts: registration and
// login with passwords (bcrypt) or GitHub (OAuth 2), server-side sessions in
// a cookie, CSRF protection, login rate limits, the static client files and,
// in freeCodeCamp testing mode, the /_api/ endpoints the checker reads.
//
// The Socket.IO server is not part of this package: cmd/switchboard mounts
// it at /socket.io/ through Server.Realtime, and it authenticates sockets
// with Server.Authenticate and Server.CheckOrigin.
package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/oauth2"

	"switchboard/chat"
	assets "switchboard/web"
)

// Defaults for Config's zero fields.
const (
	DefaultBcryptCost = 12
	DefaultSessionTTL = 14 * 24 * time.Hour

	// DefaultRequestTimeout bounds how long a page request (anything but
	// /socket.io/) may take to arrive: a client that starts a form and
	// never finishes it is answered 408 and disconnected, instead of
	// holding a connection and a goroutine for as long as it likes.
	DefaultRequestTimeout = 30 * time.Second
)

// Login rate limit: per client IP and per username, this many failed
// attempts per minute; the next attempt is answered 429.
const (
	LoginFailuresPerMinute = 5
)

// Registration limit: per client IP, this many new accounts an hour (all at
// once if need be — a classroom behind one address), then one every two
// minutes; the next registration is answered 429.
const (
	RegistrationsPerHour = 30
)

// Config is the web server's configuration. The zero value is usable: no
// GitHub login, no freeCodeCamp mode, plain-HTTP cookies.
type Config struct {
	// BcryptCost is the cost of new password hashes (DefaultBcryptCost if
	// 0). Tests lower it to bcrypt.MinCost.
	BcryptCost int

	// SessionTTL is how long a login lasts (DefaultSessionTTL if 0).
	SessionTTL time.Duration

	// RequestTimeout is how long a page request may take to arrive, body
	// included (DefaultRequestTimeout if 0); its answer then has as long
	// again to be written. Requests under /socket.io/ are not bound by it:
	// long-polling and WebSockets have their own heartbeat.
	RequestTimeout time.Duration

	// CSRFKey signs the forms' CSRF tokens (at least 16 bytes). Keep it
	// across restarts, or forms opened before one are refused once. Empty
	// means a random key for this process.
	CSRFKey []byte

	// BehindTLS marks cookies Secure even when requests arrive over plain
	// HTTP, for a server behind a TLS-terminating proxy. Requests that do
	// arrive over TLS always get Secure cookies.
	BehindTLS bool

	// TrustProxy is the number of reverse proxies in front of the server,
	// each appending the address it was reached from to X-Forwarded-For
	// (a CDN, then a load balancer: 2). The per-IP login limits then key by
	// the address the outermost proxy saw instead of the connection's.
	// 0 (the default) ignores X-Forwarded-For: a client can write anything
	// there.
	TrustProxy int

	// AllowedOrigins lists extra origins ("https://example.com") whose pages
	// may open sockets and post forms. The server's own origin (the
	// request's Host) is always allowed. "*" allows any origin.
	AllowedOrigins []string

	// FCCTesting enables the freeCodeCamp checker's endpoints under
	// /_api/ and CORS for its origins. Off by default: it exposes source.
	FCCTesting bool

	// ServerSource is served at /_api/server.js in FCCTesting mode: the Go
	// source of the socket handlers. A placeholder is served when empty.
	ServerSource []byte

	// GitHub configures "Log in with GitHub"; disabled unless ClientID and
	// ClientSecret are set.
	GitHub GitHubConfig
}

// GitHubConfig configures GitHub OAuth. The endpoint URLs default to
// GitHub's; tests point them at a fake provider. Printed (fmt, slog) or
// encoded as JSON, it never shows ClientSecret.
type GitHubConfig struct {
	ClientID     string
	ClientSecret string `json:"-"`
	AuthURL      string // default https://github.com/login/oauth/authorize
	TokenURL     string // default https://github.com/login/oauth/access_token
	APIURL       string // default https://api.github.com (GET {APIURL}/user)
	// RedirectURL is the callback URL registered with GitHub. If empty it is
	// derived from each request: scheme://host/auth/github/callback.
	RedirectURL string
}

// gitHubConfigFields is GitHubConfig without its methods, for printing.
type gitHubConfigFields GitHubConfig

func (g GitHubConfig) redacted() gitHubConfigFields {
	r := gitHubConfigFields(g)
	if r.ClientSecret != "" {
		r.ClientSecret = "[redacted]"
	}
	return r
}

// String shows the configuration with the client secret redacted.
func (g GitHubConfig) String() string { return fmt.Sprintf("%+v", g.redacted()) }

// GoString is String for %#v.
func (g GitHubConfig) GoString() string { return "web.GitHubConfig" + g.String() }

// LogValue is String for log/slog.
func (g GitHubConfig) LogValue() slog.Value { return slog.StringValue(g.String()) }

// Enabled reports whether GitHub login is configured.
func (g GitHubConfig) Enabled() bool { return g.ClientID != "" && g.ClientSecret != "" }

// Server is the chat's HTTP front end. Create it with NewServer, set the
// optional fields, then serve Handler(). Fields must not change once
// serving has started.
type Server struct {
	// Realtime, if set, serves everything under /socket.io/ (the Socket.IO
	// endpoint and its client bundle). It is called without any of this
	// package's middleware, so WebSocket upgrades and hijacking work.
	Realtime http.Handler

	// OnlineCount, if set, gives the number of users online shown on the
	// chat page before the socket connects (chat.Presence.Count).
	OnlineCount func() int

	// OnSessionEnd, if set, is called with SessionKey's value when a session
	// ends by logout, so that the realtime server can disconnect the sockets
	// opened with it.
	OnSessionEnd func(key string)

	// Health, if set, reports whether the server can serve: GET /healthz
	// answers 200 "ok" when it returns nil and 503 otherwise (for load
	// balancers and orchestrators). It is called with the request's context.
	Health func(context.Context) error

	// Logger receives request errors and security events (discarded if
	// nil).
	Logger *slog.Logger

	// Now is the clock (time.Now if nil).
	Now func() time.Time

	// HTTPClient talks to GitHub (a client with a 10-second timeout if nil).
	HTTPClient *http.Client

	users    chat.UserService
	sessions chat.SessionService
	cfg      Config

	pages        map[string]*template.Template
	static       map[string]staticFile
	csrfKey      []byte
	loginLimiter *chat.RateLimiter
	regLimiter   *chat.RateLimiter
	bcryptSlots  chan struct{}
	oauth        *oauth2.Config
	crossOrigin  *http.CrossOriginProtection
	origins      originPolicy
	dummyHash    func() []byte
}

// NewServer returns a Server storing accounts in users and sessions.
func NewServer(cfg Config, users chat.UserService, sessions chat.SessionService) (*Server, error) {
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = DefaultBcryptCost
	}
	if cfg.BcryptCost < bcrypt.MinCost || cfg.BcryptCost > bcrypt.MaxCost {
		return nil, fmt.Errorf("web: bcrypt cost %d outside %d..%d", cfg.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.TrustProxy < 0 {
		return nil, fmt.Errorf("web: %d trusted proxies; want 0 or more", cfg.TrustProxy)
	}
	if n := len(cfg.CSRFKey); n > 0 && n < 16 {
		return nil, fmt.Errorf("web: CSRF key of %d bytes; want at least 16", n)
	}
	s := &Server{
		users:       users,
		sessions:    sessions,
		cfg:         cfg,
		csrfKey:     make([]byte, 32),
		bcryptSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	if len(cfg.CSRFKey) > 0 {
		s.csrfKey = bytes.Clone(cfg.CSRFKey)
	} else {
		rand.Read(s.csrfKey) // never fails (crypto/rand panics instead)
	}
	var err error
	if s.pages, err = parsePages(); err != nil {
		return nil, err
	}
	if s.static, err = loadStatic(assets.Static()); err != nil {
		return nil, err
	}
	if s.origins, err = newOriginPolicy(cfg.AllowedOrigins); err != nil {
		return nil, err
	}
	s.loginLimiter = chat.NewRateLimiter(LoginFailuresPerMinute, time.Minute, LoginFailuresPerMinute, s.now)
	s.regLimiter = chat.NewRateLimiter(RegistrationsPerHour, time.Hour, RegistrationsPerHour, s.now)
	s.dummyHash = onceDummyHash(cfg.BcryptCost)
	s.crossOrigin = http.NewCrossOriginProtection()
	for _, o := range s.origins.exact {
		if err := s.crossOrigin.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("web: allowed origin %q: %w", o, err)
		}
	}
	s.crossOrigin.SetDenyHandler(http.HandlerFunc(s.denyCrossOrigin))
	if cfg.GitHub.Enabled() {
		s.oauth = newGitHubOAuth(cfg.GitHub)
	}
	return s, nil
}

// Config returns the server's configuration with defaults filled in.
func (s *Server) Config() Config { return s.cfg }

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Handler returns the server's complete HTTP handler.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()

	mux.HandleFunc("GET /{$}", s.handleHome)
	mux.Handle("POST /register", s.protect(http.HandlerFunc(s.handleRegister)))
	mux.Handle("POST /login", s.protect(http.HandlerFunc(s.handleLogin)))
	mux.HandleFunc("GET /register", redirectHome)
	mux.HandleFunc("GET /login", redirectHome)
	mux.HandleFunc("GET /logout", s.handleLogoutConfirm)
	mux.Handle("POST /logout", s.protect(http.HandlerFunc(s.handleLogout)))
	mux.HandleFunc("GET /profile", s.handleProfile)
	mux.HandleFunc("GET /chat", s.handleChat)
	mux.HandleFunc("GET /auth/github", s.handleGitHubLogin)
	mux.HandleFunc("GET "+GitHubCallbackPath, s.handleGitHubCallback)
	mux.HandleFunc("GET /public/{file...}", s.handleStatic)
	mux.HandleFunc("GET /healthz", s.handleHealth)
	if s.cfg.FCCTesting {
		mux.HandleFunc("GET /_api/server.js", s.handleServerSource)
		mux.HandleFunc("/_api/server.js", s.methodNotAllowed("GET, HEAD"))
		mux.HandleFunc("/_api/", s.handleAPINotFound)
	}
	// Other methods on the paths above are 405, not the catch-all's 404.
	for _, p := range []string{"/{$}", "/profile", "/chat", "/auth/github", "/auth/github/callback", "/public/{file...}", "/healthz"} {
		mux.HandleFunc(p, s.methodNotAllowed("GET, HEAD"))
	}
	for _, p := range []string{"/register", "/login", "/logout"} {
		mux.HandleFunc(p, s.methodNotAllowed("GET, HEAD, POST"))
	}
	mux.HandleFunc("/", s.handleNotFound)

	var h http.Handler = mux
	if s.cfg.FCCTesting {
		h = s.fccCORS(h)
	}
	h = s.securityHeaders(h)
	h = s.recoverPanics(h)
	h = s.logRequests(h)
	h = s.deadlines(h)

	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") {
			s.serveRealtime(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// handleHealth answers GET /healthz: 200 "ok", or 503 "unavailable" when
// Health reports a problem (which is logged, not shown: the endpoint is
// public).
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if s.Health != nil {
		if err := s.Health(r.Context()); err != nil {
			s.logger().Warn("health check failed", "err", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, "unavailable\n")
			return
		}
	}
	io.WriteString(w, "ok\n")
}

func (s *Server) serveRealtime(w http.ResponseWriter, r *http.Request) {
	if s.Realtime == nil {
		http.Error(w, "The realtime server is not enabled.", http.StatusServiceUnavailable)
		return
	}
	s.Realtime.ServeHTTP(w, r)
}

// methodNotAllowed answers 405 with the methods a path does answer.
func (s *Server) methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		s.render(w, r, http.StatusMethodNotAllowed, "error", &page{
			User:    s.userOrNil(r),
			Status:  http.StatusMethodNotAllowed,
			Heading: "Method not allowed",
			Message: fmt.Sprintf("%s does not answer %s requests (only %s).", r.URL.Path, r.Method, allow),
		})
	}
}

func redirectHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// securityHeaders sets headers every page and file gets: a strict content
// security policy (scripts and styles from this origin only), no framing,
// no MIME sniffing, no referrer to other sites.
func (s *Server) securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
			"img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "+
			"form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// deadlines gives a request RequestTimeout to arrive and as long again to
// be answered. net/http clears both deadlines before the connection's next
// request, which may be a long poll under /socket.io/.
func (s *Server) deadlines(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		_ = rc.SetReadDeadline(now.Add(s.cfg.RequestTimeout))
		_ = rc.SetWriteDeadline(now.Add(2 * s.cfg.RequestTimeout))
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a panic in a handler into a 500 page and a log entry
// instead of a dropped connection.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.logger().Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.renderError(w, r, chat.Errorf(chat.EINTERNAL, "Something went wrong on our side."))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// logRequests logs every request at debug level with its status and
// duration.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		log := s.logger()
		if !log.Enabled(r.Context(), slog.LevelDebug) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", rec.status,
			"duration", time.Since(start), "ip", s.clientIP(r))
	})
}

// statusRecorder remembers the status code written through it.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
