package engineio

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// RequestError is a refused HTTP request, answered as Node's engine.io does:
// status 400 (403 for ErrForbidden) with the JSON body {"code","message"}
// (a refused WebSocket upgrade: 400 with the message as text).
type RequestError struct {
	Code    int    // Engine.IO error code, 0–5
	Message string // the message sent to the client
}

// Error returns the message and code.
func (e *RequestError) Error() string {
	return fmt.Sprintf("engineio: %s (code %d)", e.Message, e.Code)
}

// Is matches RequestErrors by code, so errors.Is(err, ErrUnknownSID) works.
func (e *RequestError) Is(target error) bool {
	var t *RequestError
	return errors.As(target, &t) && t.Code == e.Code
}

// The Engine.IO request errors, by code. ErrForbidden's message is replaced
// by the error that Options.AllowRequest returned.
var (
	ErrUnknownTransport    = &RequestError{0, "Transport unknown"}
	ErrUnknownSID          = &RequestError{1, "Session ID unknown"}
	ErrBadHandshakeMethod  = &RequestError{2, "Bad handshake method"}
	ErrBadRequest          = &RequestError{3, "Bad request"}
	ErrForbidden           = &RequestError{4, "Forbidden"}
	ErrUnsupportedProtocol = &RequestError{5, "Unsupported protocol version"}
)

// ErrSessionClosed is returned when sending on a closed session, also one
// that a send closed because its queue was full (Options.MaxQueuedBytes).
var ErrSessionClosed = errors.New("engineio: session closed")

func (e *RequestError) status() int {
	if e.Code == ErrForbidden.Code {
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// writeRequestError answers a polling request the way Node does.
func writeRequestError(w http.ResponseWriter, e *RequestError) {
	body, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{e.Code, e.Message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.status())
	_, _ = w.Write(body)
}

// writeUpgradeError answers a refused WebSocket upgrade the way Node does:
// 400 with the message as text, and the connection closed.
func writeUpgradeError(w http.ResponseWriter, e *RequestError) {
	h := w.Header()
	h.Set("Connection", "close")
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(e.Message)))
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write([]byte(e.Message))
}
