package socketio

import (
	"encoding/json"
	"errors"
	"sync"
)

var errConnectTimeout = errors.New("socketio: no namespace joined within ConnectTimeout")

// ParentNamespace is a family of dynamic namespaces (Server.OfFunc,
// Server.OfRegexp; Node's parent namespace). Middlewares, connection
// handlers and event handlers registered on it apply to every child,
// present and future: its middlewares run before the child's own, its
// connection handlers before the child's, and its event handlers serve
// events that neither the socket nor the child has a handler for. It is
// safe for concurrent use.
type ParentNamespace struct {
	srv   *Server
	match func(name string, auth json.RawMessage) bool

	mu          sync.RWMutex
	children    map[string]*Namespace
	middlewares []Middleware
	onConnect   []func(s *Socket)
	handlers    map[string][]EventHandler
}

// Use adds a connection middleware to every child; see Namespace.Use.
func (p *ParentNamespace) Use(mw Middleware) {
	p.mu.Lock()
	p.middlewares = append(p.middlewares, mw)
	p.mu.Unlock()
}

// OnConnection registers fn for sockets connecting to any child
// (s.Namespace() tells which); see Namespace.OnConnection.
func (p *ParentNamespace) OnConnection(fn func(s *Socket)) {
	p.mu.Lock()
	p.onConnect = append(p.onConnect, fn)
	p.mu.Unlock()
}

// On registers an event handler for the sockets of every child; see
// Namespace.On. On("connection", h) is OnConnection.
func (p *ParentNamespace) On(event string, h EventHandler) {
	if event == "connection" || event == "connect" {
		p.OnConnection(func(s *Socket) { h(s, &Event{Name: event}) })
		return
	}
	p.mu.Lock()
	if p.handlers == nil {
		p.handlers = make(map[string][]EventHandler)
	}
	p.handlers[event] = append(p.handlers[event], h)
	p.mu.Unlock()
}

// Children returns the namespaces created so far and not cleaned up (see
// Options.CleanupEmptyChildNamespaces), in no particular order.
func (p *ParentNamespace) Children() []*Namespace {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := make([]*Namespace, 0, len(p.children))
	for _, n := range p.children {
		out = append(out, n)
	}
	return out
}

// Emit sends an event to every socket of every child (Node's
// parentNamespace.emit), encoding it once per child. It returns the
// children's errors joined (errors.Join): with no child, nil.
func (p *ParentNamespace) Emit(event string, args ...any) error {
	var errs []error
	for _, n := range p.Children() {
		if err := n.Emit(event, args...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (p *ParentNamespace) child(name string) *Namespace {
	p.srv.mu.Lock()
	defer p.srv.mu.Unlock()
	if n := p.srv.nsps[name]; n != nil {
		return n
	}
	n := newNamespace(p.srv, name)
	n.parent = p
	p.srv.nsps[name] = n
	p.mu.Lock()
	p.children[name] = n
	p.mu.Unlock()
	return n
}

// drop forgets an empty child namespace (CleanupEmptyChildNamespaces).
func (p *ParentNamespace) drop(n *Namespace) {
	p.srv.mu.Lock()
	if p.srv.nsps[n.name] == n {
		delete(p.srv.nsps, n.name)
	}
	p.srv.mu.Unlock()
	p.mu.Lock()
	if p.children[n.name] == n {
		delete(p.children, n.name)
	}
	p.mu.Unlock()
	_ = n.adapter.Close()
}
