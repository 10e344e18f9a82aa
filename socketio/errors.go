package socketio

import (
	"encoding/json"
	"errors"
	"fmt"

	"switchboard/engineio"
)

// DisconnectReason says why a socket disconnected, in Node's words: the
// strings Node's socket.io passes to the server's "disconnect" handlers.
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

// Errors returned by the package, wrapped with details: test them with
// errors.Is.
var (
	// ErrReservedEvent: an emit of an event name the protocol reserves
	// ("connect", "connect_error", "disconnect", "disconnecting",
	// "newListener", "removeListener"); nothing was sent.
	ErrReservedEvent = errors.New("socketio: reserved event name")
	// ErrDisconnected: the socket is disconnected, so nothing was sent or
	// no acknowledgement will come (EmitWithAck, or a broadcast's
	// EmitWithAck whose missing recipients all left, with ErrAckTimeout).
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrAckTimeout: an EmitWithAck's context (or a broadcast's Timeout)
	// ended before the acknowledgements came; the error wraps the
	// context's error as well.
	ErrAckTimeout = errors.New("socketio: acknowledgement timed out")
	// ErrAckSent: Event.Ack was called again after it sent the
	// acknowledgement.
	ErrAckSent = errors.New("socketio: acknowledgement already sent")
	// ErrNoArgument: Args has no argument at that index.
	ErrNoArgument = errors.New("socketio: no such argument")
	// ErrArgumentType: the argument is not of the type asked for (Args.String
	// of a number, Args.Bytes of a string…).
	ErrArgumentType = errors.New("socketio: argument has another type")
	// ErrServerClosed: Server.Close has returned, so the broadcast (or
	// FetchSockets, SocketsJoin…) reaches no socket.
	ErrServerClosed = errors.New("socketio: server closed")
)

// DisconnectError is why a socket ended: the cause (context.Cause) of its
// Context. errors.Is(err, ErrDisconnected) holds for it.
type DisconnectError struct {
	Reason DisconnectReason
}

func (e *DisconnectError) Error() string {
	return "socketio: socket disconnected (" + string(e.Reason) + ")"
}

// Unwrap returns ErrDisconnected.
func (e *DisconnectError) Unwrap() error { return ErrDisconnected }

// PanicError is how a recovered panic in a handler is reported: to the
// socket's OnError handler, or, without one, to Options.Logger at level
// Error with its stack. Unwrap returns the panic's value when it is an
// error.
type PanicError struct {
	Handler string // what panicked: "connection handler", `handler of "chat message"`, "packet middleware"
	Value   any    // the value given to panic
	Stack   []byte // the panicking goroutine's stack (runtime/debug.Stack)
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("socketio: %s panicked: %v", e.Handler, e.Value)
}

// Unwrap returns the panic's value if it is an error, else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// ConnectError refuses a connection from a middleware (Node's next(err)
// with err.data): the client's connect_error handler receives an Error whose
// message is Message and whose data property is Data, encoded as JSON (left
// out when nil). A middleware may also return it wrapped; any other error
// refuses with its Error() text as the message. The client does not retry
// by itself after a connect_error from a middleware.
type ConnectError struct {
	Message string
	Data    any
}

// Error returns Message.
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
