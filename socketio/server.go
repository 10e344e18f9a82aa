package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard/engineio"
	"switchboard/socketio/adapter"
	"switchboard/socketio/clientdist"
)

// Options configure a Server. A nil *Options, and every zero field, mean
// Node's defaults. Engine.IO settings (ping interval and timeout, buffer
// sizes, transports, CORS, AllowRequest) are in Engine.
type Options struct {
	// Path is where the server answers (default "/socket.io/"; a trailing
	// slash is added). The path without its trailing slash is answered too,
	// for clients with addTrailingSlash: false: with an http.ServeMux, mount
	// the server at both ("/socket.io" and "/socket.io/").
	Path string
	// ConnectTimeout closes connections that join no namespace in time
	// (default 45 s), as Node's connectTimeout.
	ConnectTimeout time.Duration
	// MaxAttachments bounds the binary attachments of an incoming packet
	// (default 10); a packet announcing more closes its connection with
	// "parse error".
	MaxAttachments int
	// Adapter creates each namespace's adapter (default
	// adapter.NewInMemory: rooms in this process).
	Adapter adapter.Factory
	// MaxNamespacesPerClient bounds how many namespaces one client (one
	// connection) may be connected to at once (default 256; negative: no
	// limit). A CONNECT past it is refused with a CONNECT_ERROR,
	// {"message": "Too many namespaces"} (the client's connect_error); the
	// connection and its other sockets stay. Node has no such bound: there, one connection
	// can hold any number of sockets, and with a dynamic namespace create
	// any number of namespaces.
	MaxNamespacesPerClient int
	// CleanupEmptyChildNamespaces removes a dynamic namespace (see OfFunc)
	// when its last socket leaves, as Node's option of the same name: with a
	// pattern that admits endless names, namespaces would otherwise pile up.
	CleanupEmptyChildNamespaces bool
	// DisableServeClient stops serving the browser client bundle at
	// <Path>socket.io.js (and .min.js, .esm.min.js, .map…), as Node's
	// serveClient: false. The bundle is served only when it was built into
	// the binary (see ClientBundleAvailable).
	DisableServeClient bool
	// Engine configures the Engine.IO layer: transports, ping interval and
	// timeout, buffer sizes, CORS, AllowRequest… Its Path is ignored (Path
	// above is used) and its Logger defaults to Logger.
	Engine engineio.Options
	// Logger receives diagnostics (default: discard).
	Logger *slog.Logger
}

// defaultMaxNamespaces is Options.MaxNamespacesPerClient's default: far more
// than clients multiplex (the official client opens one socket per
// namespace it is asked for), and a bound on what one connection can make
// the server hold (~1 KiB per socket).
const defaultMaxNamespaces = 256

// Server is a Socket.IO server: an http.Handler, and the main namespace
// ("/"): its Use, OnConnection, On, Emit, To… are those of Of("/"), as
// Node's io.on, io.emit… are io.of("/")'s. It is safe for concurrent use.
type Server struct {
	eio            *engineio.Server
	log            *slog.Logger
	path           string
	serveClient    bool
	connectTimeout time.Duration
	maxAttachments int
	maxNamespaces  int // per client; < 0: no limit
	adapterFactory adapter.Factory
	cleanupEmpty   bool

	mu      sync.RWMutex
	nsps    map[string]*Namespace
	parents []*ParentNamespace
	main    *Namespace

	clients sync.WaitGroup
	closing atomic.Bool
	// drained is closed once every client has gone, after a Close; closed
	// is set when the first Close returns (the adapters are closed).
	drained chan struct{}
	closed  atomic.Bool
}

// NewServer returns a Server; nil opts means the defaults. Its goroutines
// start with the first connections; Close releases them.
func NewServer(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Path == "" {
		o.Path = "/socket.io/"
	}
	if !strings.HasSuffix(o.Path, "/") {
		o.Path += "/"
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 45 * time.Second
	}
	if o.Adapter == nil {
		o.Adapter = adapter.NewInMemory
	}
	if o.MaxNamespacesPerClient == 0 {
		o.MaxNamespacesPerClient = defaultMaxNamespaces
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	srv := &Server{
		drained:        make(chan struct{}),
		log:            o.Logger,
		path:           o.Path,
		serveClient:    !o.DisableServeClient,
		connectTimeout: o.ConnectTimeout,
		maxAttachments: o.MaxAttachments,
		maxNamespaces:  o.MaxNamespacesPerClient,
		adapterFactory: o.Adapter,
		cleanupEmpty:   o.CleanupEmptyChildNamespaces,
		nsps:           make(map[string]*Namespace),
	}
	eo := o.Engine
	eo.Path = o.Path
	if eo.Logger == nil {
		eo.Logger = o.Logger
	}
	srv.eio = engineio.NewServer(engineHandler{srv}, &eo)
	srv.main = srv.Of("/")
	if srv.serveClient && !clientdist.Available() {
		srv.log.Warn("socketio: " + clientdist.MissingMessage)
	}
	return srv
}

// ClientBundleAvailable reports whether the browser client bundle was built
// into this binary (see package clientdist).
func ClientBundleAvailable() bool { return clientdist.Available() }

// Engine returns the underlying Engine.IO server.
func (srv *Server) Engine() *engineio.Server { return srv.eio }

// ServeHTTP answers the Engine.IO requests of Socket.IO clients under the
// server's path, and at the path without its trailing slash, and serves
// the browser client bundle (see Options.DisableServeClient). Other paths
// get 404.
func (srv *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if srv.serveClient && (r.Method == http.MethodGet || r.Method == http.MethodHead) && strings.HasPrefix(r.URL.Path, srv.path) {
		if name := r.URL.Path[len(srv.path):]; clientdist.IsBundleFile(name) {
			clientdist.Serve(w, r, name)
			return
		}
	}
	srv.eio.ServeHTTP(w, r)
}

// Of returns the namespace name, creating it if needed ("/chat"; a missing
// leading slash is added), as Node's io.of(name). Clients can join only the
// namespaces created with Of, and those matched by OfFunc or OfRegexp;
// others are refused with connect_error "Invalid namespace".
func (srv *Server) Of(name string) *Namespace {
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if n := srv.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(srv, name)
	srv.nsps[name] = n
	return n
}

// OfFunc declares dynamic namespaces, as Node's io.of(function): when a
// client asks for a namespace that does not exist, match is called with
// its name and the client's auth payload, and if it reports true the
// namespace is created as a child of the returned ParentNamespace. Later
// clients of that namespace join it without calling match again (until
// CleanupEmptyChildNamespaces removes it). Families are tried in the order
// they were declared. match runs on the connecting client's handler
// goroutine and must be safe for concurrent use.
func (srv *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *ParentNamespace {
	p := &ParentNamespace{srv: srv, match: match, children: make(map[string]*Namespace)}
	srv.mu.Lock()
	srv.parents = append(srv.parents, p)
	srv.mu.Unlock()
	return p
}

// OfRegexp declares dynamic namespaces whose names match re, as Node's
// io.of(/regexp/); see OfFunc. Anchor re (`^/room-\d+$`): a pattern that
// matches part of a name admits any name that contains it.
func (srv *Server) OfRegexp(re *regexp.Regexp) *ParentNamespace {
	return srv.OfFunc(func(name string, _ json.RawMessage) bool { return re.MatchString(name) })
}

func (srv *Server) lookupNamespace(name string, auth []byte) *Namespace {
	srv.mu.RLock()
	n := srv.nsps[name]
	parents := srv.parents
	srv.mu.RUnlock()
	if n != nil {
		return n
	}
	for _, p := range parents {
		if p.match(name, auth) {
			return p.child(name)
		}
	}
	return nil
}

// The main namespace ("/") shortcuts, as Node's io.on / io.use / io.emit.
// Each is the same method of Of("/").

// Use adds a connection middleware to the main namespace (Node's io.use);
// see Namespace.Use.
func (srv *Server) Use(mw Middleware) { srv.main.Use(mw) }

// OnConnection registers fn for sockets connecting to the main namespace
// (Node's io.on("connection")); see Namespace.OnConnection.
func (srv *Server) OnConnection(fn func(s *Socket)) { srv.main.OnConnection(fn) }

// On registers an event handler for every socket of the main namespace;
// see Namespace.On.
func (srv *Server) On(event string, h EventHandler) { srv.main.On(event, h) }

// Emit sends an event to every socket of the main namespace (Node's
// io.emit); see BroadcastOperator.Emit.
func (srv *Server) Emit(event string, args ...any) error { return srv.main.Emit(event, args...) }

// EmitMany sends several events, in order, to every socket of the main
// namespace (Node's io.emit several times in a row); see
// BroadcastOperator.EmitMany.
func (srv *Server) EmitMany(msgs ...Message) error { return srv.main.EmitMany(msgs...) }

// To selects sockets of the main namespace by room.
func (srv *Server) To(rooms ...string) BroadcastOperator { return srv.main.To(rooms...) }

// In is To.
func (srv *Server) In(rooms ...string) BroadcastOperator { return srv.main.To(rooms...) }

// Except excludes sockets of the main namespace by room.
func (srv *Server) Except(rooms ...string) BroadcastOperator { return srv.main.Except(rooms...) }

// Local restricts a main-namespace operation to this node.
func (srv *Server) Local() BroadcastOperator { return srv.main.Local() }

// Volatile makes a main-namespace broadcast volatile.
func (srv *Server) Volatile() BroadcastOperator { return srv.main.Volatile() }

// Compress(false) makes a main-namespace broadcast uncompressed (see
// BroadcastOperator.Compress).
func (srv *Server) Compress(compress bool) BroadcastOperator { return srv.main.Compress(compress) }

// Timeout bounds a main-namespace broadcast's wait for acknowledgements.
func (srv *Server) Timeout(d time.Duration) BroadcastOperator { return srv.main.Timeout(d) }

// FetchSockets describes the sockets of the main namespace.
func (srv *Server) FetchSockets(ctx context.Context) ([]*RemoteSocket, error) {
	return srv.main.FetchSockets(ctx)
}

// SocketsJoin makes every socket of the main namespace join rooms.
func (srv *Server) SocketsJoin(rooms ...string) error { return srv.main.SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the main namespace leave rooms.
func (srv *Server) SocketsLeave(rooms ...string) error { return srv.main.SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the main namespace.
func (srv *Server) DisconnectSockets(close bool) error { return srv.main.DisconnectSockets(close) }

// ServerSideEmit sends an event to the other nodes of a cluster.
func (srv *Server) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	return srv.main.ServerSideEmit(ctx, event, args...)
}

// Close shuts the server down: new connections are refused (HTTP 503),
// every socket disconnects with "server shutting down", connections close.
// It waits until every disconnect handler has returned and every
// connection is closed, or until ctx ends: it then returns ctx.Err() and
// cuts the WebSockets still open. Disconnect handlers may still broadcast
// during Close (to the sockets that remain, in a cluster those of other
// nodes); once the first Close has returned, broadcasts and the other
// operations that reach sockets return ErrServerClosed. A later call, as
// http.Server.Shutdown's, waits for the same shutdown (until its own ctx
// ends) and returns nil once it is complete.
//
// It does not stop the http.Server: call Close first, then the
// http.Server's Shutdown, which would otherwise wait for the long-polling
// requests Close ends.
func (srv *Server) Close(ctx context.Context) error {
	if srv.closing.Swap(true) {
		if err := srv.eio.Close(ctx); err != nil {
			return err
		}
		select {
		case <-srv.drained:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err := srv.eio.Close(ctx)
	go func() {
		srv.clients.Wait()
		close(srv.drained)
	}()
	select {
	case <-srv.drained:
	case <-ctx.Done():
		if err == nil {
			err = ctx.Err()
		}
	}
	srv.closed.Store(true)
	srv.mu.RLock()
	for _, n := range srv.nsps {
		_ = n.adapter.Close()
	}
	srv.mu.RUnlock()
	return err
}

// checkOpen returns ErrServerClosed once Close has returned.
func (srv *Server) checkOpen() error {
	if srv.closed.Load() {
		return ErrServerClosed
	}
	return nil
}

func newID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// engineHandler connects the Engine.IO server to Socket.IO clients.
type engineHandler struct{ srv *Server }

func (h engineHandler) OnOpen(sess *engineio.Session) {
	c := &client{srv: h.srv, sess: sess}
	c.dec.MaxAttachments = h.srv.maxAttachments
	h.srv.clients.Add(1)
	sess.SetUserData(c)
	c.mu.Lock()
	c.connectTimer = time.AfterFunc(h.srv.connectTimeout, func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0 && len(c.connecting) == 0 && !c.closed
		c.mu.Unlock()
		if idle {
			c.closeConn(engineio.ReasonForcedClose, errConnectTimeout)
		}
	})
	c.mu.Unlock()
}

func (h engineHandler) OnMessage(sess *engineio.Session, data []byte, binary bool) {
	if c, ok := sess.UserData().(*client); ok {
		c.onMessage(data, binary)
	}
}

func (h engineHandler) OnClose(sess *engineio.Session, reason engineio.CloseReason, err error) {
	if c, ok := sess.UserData().(*client); ok {
		c.onClose(reason)
	}
}
