package socketio

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"switchboard/engineio"
)

// Handshake describes how a socket connected: the HTTP request that opened
// its connection and the auth payload of its CONNECT packet.
type Handshake struct {
	// Auth is the CONNECT payload (a JSON object; "{}" when the client sent none).
	Auth json.RawMessage
	// Headers are the headers of the connection's first request (without
	// the WebSocket handshake's own: Upgrade, Connection, Sec-WebSocket-*).
	Headers http.Header
	// URL is the first request's target ("/socket.io/?EIO=4&transport=…");
	// parse it with Query or url.ParseRequestURI.
	URL string
	// Address is the client's address (host:port).
	Address string
	// Time is when the connection opened.
	Time time.Time
	// Secure reports a TLS connection.
	Secure bool
	// XDomain reports a cross-origin request (an Origin header was sent).
	XDomain bool
}

// Query returns the first request's query parameters.
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
