package socketio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"switchboard/engineio"
)

// Handshake describes how a socket connected (Node's socket.handshake): the
// HTTP request that opened its connection and the auth payload of its
// CONNECT packet. The sockets of one connection share the request's fields;
// each has its own Auth. Do not modify it.
type Handshake struct {
	// Auth is the CONNECT payload, the client's auth option (a JSON object;
	// "{}" when the client sent none). Decode it with json.Unmarshal.
	Auth json.RawMessage
	// Headers are the headers of the connection's first request (without
	// the WebSocket handshake's own: Upgrade, Connection, Sec-WebSocket-*),
	// Cookie and Origin included: read cookies with
	// http.ParseCookie(Headers.Get("Cookie")). Later requests of the
	// connection (polls, the WebSocket upgrade) do not change them.
	Headers http.Header
	// URL is the first request's target ("/socket.io/?EIO=4&transport=…");
	// parse it with Query or url.ParseRequestURI.
	URL string
	// Address is the client's address (host:port), the http.Request's
	// RemoteAddr: behind a proxy, the proxy's (read X-Forwarded-For in
	// Headers only if your proxy sets it).
	Address string
	// Time is when the connection opened.
	Time time.Time
	// Secure reports a TLS connection.
	Secure bool
	// XDomain reports a first request with an Origin header, as Node's
	// xdomain (browsers send one with some same-origin requests too, such
	// as WebSocket handshakes).
	XDomain bool
}

// Query returns the first request's query parameters (the client's query
// option, plus EIO and transport); an empty set if URL cannot be parsed.
func (h *Handshake) Query() url.Values {
	u, err := url.ParseRequestURI(h.URL)
	if err != nil {
		return url.Values{}
	}
	return u.Query()
}

func newHandshake(req *engineio.Request, auth []byte) Handshake {
	if len(auth) == 0 {
		auth = []byte("{}")
	}
	return Handshake{
		Auth:    auth,
		Headers: req.Header,
		URL:     req.RequestURI,
		Address: req.RemoteAddr,
		Time:    req.Time,
		Secure:  req.TLS,
		XDomain: req.Header.Get("Origin") != "",
	}
}
