package engineio

import (
	"compress/flate"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Transport names, as used in the "transport" query parameter.
const (
	TransportPolling   = "polling"
	TransportWebSocket = "websocket"
)

// Options configure a Server. A nil *Options, and every zero field, mean
// the Node.js engine.io defaults.
type Options struct {
	// Path is the URL path prefix the server answers (default "/engine.io/";
	// a trailing slash is added). The path without its trailing slash
	// ("/engine.io?EIO=4…", what the client's addTrailingSlash: false asks
	// for) is answered too, as Node does with its addTrailingSlash: false.
	// Requests outside both get 404.
	Path string
	// Transports lists the enabled transports, from TransportPolling and
	// TransportWebSocket (default both).
	Transports []string
	// DisableUpgrades stops polling sessions from upgrading to WebSocket.
	DisableUpgrades bool
	// PingInterval is the time between server pings (default 25 s).
	PingInterval time.Duration
	// PingTimeout is how long the server waits for a pong (default 20 s).
	PingTimeout time.Duration
	// UpgradeTimeout bounds an unfinished transport upgrade (default 10 s).
	UpgradeTimeout time.Duration
	// MaxHTTPBufferSize is the largest polling body and WebSocket message
	// accepted, in bytes (default 1e6). Larger polling bodies get 413; larger
	// WebSocket messages close the connection.
	MaxHTTPBufferSize int64
	// MaxQueuedBytes bounds the bytes queued for one session, each packet
	// or frame counted with a small overhead so that the bound holds for
	// memory even for tiny packets. A session whose client does not keep
	// up beyond it is closed with reason "transport error" (the
	// slow-consumer policy). Default 8 MiB.
	MaxQueuedBytes int
	// CORS enables cross-origin requests for polling (Node's cors option).
	// Nil means off: browsers then refuse other origins' polling requests.
	CORS *CORS
	// AllowRequest, when set, vets every handshake (not subsequent
	// requests), as Node's allowRequest: a non-nil error refuses it with
	// HTTP 403 (code 4, the error's text as message). It is where to check
	// the Origin header, which CORS does not do for WebSocket. It runs on
	// the request's goroutine and may block (ctx: r.Context()).
	AllowRequest func(r *http.Request) error
	// OnConnectionError, when set, hears of every request refused with a
	// RequestError (Node's io.engine.on("connection_error")): an unknown
	// session id — typically a client sent to another instance, or one
	// that outlived a restart — an unknown transport, an unsupported
	// protocol version, a refusal by AllowRequest… err is what the client
	// was answered with. It runs on the request's goroutine before the
	// answer is written: keep it short (count, log).
	OnConnectionError func(r *http.Request, err *RequestError)
	// Logger receives diagnostics (default: discard).
	Logger *slog.Logger
	// PerMessageDeflate, when set, compresses WebSocket messages of at least
	// Threshold bytes for clients that offer per-message deflate (browsers
	// and the Node client do), except those sent Uncompressed. Off by
	// default, as in Node: it trades CPU for bandwidth. Negotiated without
	// context takeover, so it costs no memory per idle connection and a
	// broadcast is compressed once.
	PerMessageDeflate *PerMessageDeflate
	// HTTPCompression configures the compression of long-polling responses
	// (nil: on, 1 KiB threshold, fastest level; see HTTPCompression).
	HTTPCompression *HTTPCompression
	// Cookie, when set, sends a cookie holding the session id with the
	// answer to a long-polling handshake, as Node's cookie option: what
	// load balancers with cookie-based sticky sessions route on (HAProxy's
	// "cookie io prefix"), so that every request of a polling session
	// reaches the server that holds the session. Off by default, as in
	// Node. NewServer panics if it makes an invalid cookie.
	Cookie *Cookie
	// OnHeaders, when set, may add headers to the server's answers, as
	// Node's "headers" event: every long-polling answer that is not an
	// error (the handshake, each poll, each POST) and every WebSocket
	// handshake, before it is written. initial marks a new session's
	// handshake (Node's "initial_headers"). The headers the protocol needs
	// (Content-Type, Content-Length, the WebSocket handshake's own) are
	// the server's: do not set them. It runs on the request's goroutine:
	// keep it short.
	OnHeaders func(h http.Header, r *http.Request, initial bool)
	// DisableNetpoll serves every WebSocket with a reader goroutine instead
	// of the epoll loops (Linux only; other systems always do).
	DisableNetpoll bool
}

// Cookie configures the session cookie (Options.Cookie). Its zero value is
// Node's default: named "io", Path=/, HttpOnly, SameSite=Lax, ending with
// the browser session.
type Cookie struct {
	Name   string // default "io"
	Path   string // default "/"
	Domain string // default none: the host that answered
	// MaxAge, when set, keeps the cookie that long (Max-Age, whole
	// seconds) instead of until the browser session ends.
	MaxAge time.Duration
	Secure bool
	// SameSite defaults to http.SameSiteLaxMode.
	SameSite http.SameSite
	// ScriptReadable leaves out HttpOnly (Node's httpOnly: false), so the
	// page's scripts can read the cookie.
	ScriptReadable bool
}

// httpCookie returns the cookie for session id sid.
func (c *Cookie) httpCookie(sid string) *http.Cookie {
	hc := &http.Cookie{
		Name:     c.Name,
		Value:    sid,
		Path:     c.Path,
		Domain:   c.Domain,
		Secure:   c.Secure,
		HttpOnly: !c.ScriptReadable,
		SameSite: c.SameSite,
	}
	if hc.Name == "" {
		hc.Name = "io"
	}
	if hc.Path == "" {
		hc.Path = "/"
	}
	if hc.SameSite == 0 {
		hc.SameSite = http.SameSiteLaxMode
	}
	if c.MaxAge > 0 {
		hc.MaxAge = max(1, int(c.MaxAge/time.Second))
	}
	return hc
}

// PerMessageDeflate configures WebSocket compression.
type PerMessageDeflate struct {
	// Threshold is the smallest message compressed, in bytes (default 1024).
	Threshold int
}

// CORS configures cross-origin resource sharing for polling requests: the
// Access-Control-* response headers, and the answer to preflights (204).
// It refuses nothing by itself — a request from an origin not allowed is
// served without those headers, so the browser hides the answer from the
// page — and WebSocket handshakes are not subject to it: to refuse origins,
// use Options.AllowRequest.
type CORS struct {
	// Origins lists the allowed origins ("https://example.com"); "*" allows
	// any. With Credentials, "*" echoes the request's origin.
	Origins []string
	// AllowOrigin, when set, decides instead of Origins.
	AllowOrigin func(origin string) bool
	// Credentials sets Access-Control-Allow-Credentials: true.
	Credentials bool
	// Headers lists the request headers allowed in preflights (default: the
	// ones the preflight asks for).
	Headers []string
	// MaxAge is the preflight cache lifetime, in whole seconds (default:
	// unset).
	MaxAge time.Duration
}

type config struct {
	Options
	transports   map[string]bool
	allowUpgrade bool
	log          *slog.Logger
}

func newConfig(o *Options) config {
	var c config
	if o != nil {
		c.Options = *o
	}
	if c.Path == "" {
		c.Path = "/engine.io/"
	}
	if c.Path[len(c.Path)-1] != '/' {
		c.Path += "/"
	}
	if len(c.Transports) == 0 {
		c.Transports = []string{TransportPolling, TransportWebSocket}
	}
	c.transports = make(map[string]bool, len(c.Transports))
	for _, t := range c.Transports {
		c.transports[t] = true
	}
	c.allowUpgrade = !c.DisableUpgrades && c.transports[TransportWebSocket]
	if c.PingInterval <= 0 {
		c.PingInterval = 25 * time.Second
	}
	if c.PingTimeout <= 0 {
		c.PingTimeout = 20 * time.Second
	}
	if c.UpgradeTimeout <= 0 {
		c.UpgradeTimeout = 10 * time.Second
	}
	if c.MaxHTTPBufferSize <= 0 {
		c.MaxHTTPBufferSize = 1e6
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = 8 << 20
	}
	if c.PerMessageDeflate != nil && c.PerMessageDeflate.Threshold <= 0 {
		d := *c.PerMessageDeflate
		d.Threshold = 1024
		c.PerMessageDeflate = &d
	}
	hc := HTTPCompression{}
	if c.HTTPCompression != nil {
		hc = *c.HTTPCompression
	}
	if hc.Threshold <= 0 {
		hc.Threshold = 1024
	}
	if hc.Level < flate.BestSpeed || hc.Level > flate.BestCompression {
		hc.Level = flate.BestSpeed
	}
	c.HTTPCompression = &hc
	if c.Cookie != nil {
		cookie := *c.Cookie
		c.Cookie = &cookie
		if err := cookie.httpCookie(strings.Repeat("a", 20)).Valid(); err != nil {
			panic(fmt.Sprintf("engineio: Options.Cookie: %v", err))
		}
	}
	c.log = c.Logger
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}
