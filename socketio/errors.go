package socketio

import (
	"encoding/json"
	"errors"

	"switchboard/engineio"
)

// DisconnectReason says why a socket disconnected, in Node's words.
type DisconnectReason string

// The reasons a socket disconnects.
const (
	ReasonTransportClose            DisconnectReason = "transport close"             // the client closed the connection (closed tab…)
	ReasonTransportError            DisconnectReason = "transport error"             // the connection failed (network, slow consumer…)
	ReasonPingTimeout               DisconnectReason = "ping timeout"                // the client stopped answering pings (lost network)
	ReasonParseError                DisconnectReason = "parse error"                 // the client sent a malformed packet
	ReasonForcedClose               DisconnectReason = "forced close"                // the connection was closed by the server
	ReasonForcedServerClose         DisconnectReason = "forced server close"         // the client was closed by the server (e.g. no CONNECT in time)
	ReasonServerShuttingDown        DisconnectReason = "server shutting down"        // Server.Close
	ReasonClientNamespaceDisconnect DisconnectReason = "client namespace disconnect" // the client called socket.disconnect()
	ReasonServerNamespaceDisconnect DisconnectReason = "server namespace disconnect" // the server called Socket.Disconnect
)

func reasonFromEngine(r engineio.CloseReason) DisconnectReason {
	switch r {
	case engineio.ReasonForcedClose:
		return ReasonForcedServerClose
	case engineio.ReasonServerShutdown:
		return ReasonServerShuttingDown
	default:
		return DisconnectReason(r)
	}
}

// Errors returned by the package.
var (
	ErrReservedEvent = errors.New("socketio: reserved event name")
	ErrDisconnected  = errors.New("socketio: socket disconnected")
	ErrAckTimeout    = errors.New("socketio: acknowledgement timed out")
	ErrAckSent       = errors.New("socketio: acknowledgement already sent")
	ErrNoArgument    = errors.New("socketio: no such argument")
	ErrArgumentType  = errors.New("socketio: argument has another type")
	ErrServerClosed  = errors.New("socketio: server closed")
)

// ConnectError refuses a connection from a middleware: the client's
// connect_error handler receives an Error whose message is Message and whose
// data property is Data (encoded as JSON).
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// connectErrorPayload encodes err as Node does: {"message","data"}.
func connectErrorPayload(err error) []byte {
	var ce *ConnectError
	payload := struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}{Message: err.Error()}
	if errors.As(err, &ce) {
		payload.Message, payload.Data = ce.Message, ce.Data
	}
	b, mErr := json.Marshal(payload)
	if mErr != nil {
		b, _ = json.Marshal(struct {
			Message string `json:"message"`
		}{payload.Message})
	}
	return b
}

var reservedEvents = map[string]bool{
	"connect": true, "connect_error": true, "disconnect": true,
	"disconnecting": true, "newListener": true, "removeListener": true,
}

func isReserved(event string) bool { return reservedEvents[event] }
