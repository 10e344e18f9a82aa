// Package parser encodes and decodes Socket.IO protocol v5 packets as written
// by the default JavaScript parser (socket.io-parser):
//
//	<type>[<#attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// followed, for BINARY_EVENT and BINARY_ACK, by the binary attachments, each
// sent as its own binary Engine.IO message. The text form is what follows the
// Engine.IO message type "4".
//
// The package never decodes JSON payloads into Go values: Packet.Data holds
// the payload as raw JSON, and SplitArray, IsPlaceholder, ReplacePlaceholders,
// AppendString and UnquoteString let the socketio layer pick it apart lazily.
//
// Everything here is pure and, apart from Decoder, safe for concurrent use.
// No function panics on any input; every decoding error wraps
// ErrInvalidPacket. JSON is accepted as JSON.parse accepts it (RFC 8259), up
// to the nesting depth encoding/json accepts (10000), so every payload the
// decoder accepts can also be decoded by encoding/json.
package parser

import (
	"errors"
	"fmt"
	"strconv"
)

// Type is a Socket.IO packet type.
type Type byte

// The Socket.IO v5 packet types, in wire order ('0' to '6').
const (
	Connect      Type = iota // client → server: join a namespace; server → client: joined, payload {"sid"}
	Disconnect               // either side: leave a namespace
	Event                    // either side: ["name", args...]
	Ack                      // either side: [args...] answering the Event with the same ID
	ConnectError             // server → client: joining a namespace was refused
	BinaryEvent              // Event with binary attachments
	BinaryAck                // Ack with binary attachments
)

var typeNames = [...]string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}

// String returns the protocol's name for t ("CONNECT", "BINARY_EVENT", …),
// or "Type(N)" for a value outside the seven types.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// binary reports whether packets of type t carry attachments.
func (t Type) binary() bool { return t == BinaryEvent || t == BinaryAck }

// DefaultMaxAttachments is the number of binary attachments a Decoder accepts
// per packet when Decoder.MaxAttachments is zero, as in the reference parser.
const DefaultMaxAttachments = 10

// ErrInvalidPacket is wrapped by every error this package returns.
var ErrInvalidPacket = errors.New("socketio/parser: invalid packet")

// invalid returns an error wrapping ErrInvalidPacket with the detail format.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidPacket}, args...)...)
}

// Packet is one Socket.IO packet. Packets returned by a Decoder own their
// memory: nothing in them aliases the decoder's input.
type Packet struct {
	Type Type

	// Namespace is the namespace the packet belongs to, "/" when the wire
	// shows none. It starts with '/' and contains no ','.
	Namespace string

	// ID is the acknowledgement id; it is meaningful only when HasID is set.
	// Decoded ids are in [0, math.MaxInt64].
	ID    int64
	HasID bool

	// Data is the JSON payload as on the wire, without surrounding
	// whitespace, or nil when the packet has none. For BinaryEvent and
	// BinaryAck it still contains the placeholders
	// {"_placeholder":true,"num":N}; see ReplacePlaceholders.
	Data []byte

	// Attachments are the binary attachments in order. For BinaryEvent and
	// BinaryAck the attachment count written on the wire is len(Attachments);
	// other types ignore it.
	Attachments [][]byte
}

// AppendText appends the text encoding of p to dst and returns the extended
// buffer: what follows the Engine.IO message type "4". The namespace is
// written only when it is neither "" nor "/". For BinaryEvent and BinaryAck it
// writes len(p.Attachments) and "-"; the attachments themselves are sent as
// separate binary messages by the caller.
//
// AppendText does not validate p: Namespace must start with '/' and contain no
// ',', ID must not be negative, Data must be valid JSON of the kind the type
// requires. It does not allocate when dst has room.
func (p *Packet) AppendText(dst []byte) []byte {
	dst = append(dst, '0'+byte(p.Type))
	if p.Type.binary() {
		dst = strconv.AppendInt(dst, int64(len(p.Attachments)), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendInt(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}
