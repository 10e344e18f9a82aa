// Package parser encodes and decodes Engine.IO protocol v4 packets: single
// packets as carried by WebSocket frames, and the record-separated payloads
// carried by HTTP long-polling bodies.
//
// The package is pure: it performs no I/O, holds no state and is safe for
// concurrent use. Decoding never panics on any input; malformed input yields
// an error that wraps ErrInvalidPacket.
package parser

import (
	"encoding/base64"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Type is an Engine.IO packet type.
type Type byte

// The Engine.IO v4 packet types, in wire order ('0' to '6').
const (
	Open    Type = iota // server → client, handshake data
	Close               // either side: close the transport/session
	Ping                // server → client heartbeat (and "probe" during upgrades)
	Pong                // client → server heartbeat answer
	Message             // application data, text or binary
	Upgrade             // client → server: switch to the probed transport
	Noop                // server → client: ends a pending poll during upgrades
)

var typeNames = [...]string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}

// String returns the protocol's name for t ("open", "message", …), or
// "Type(N)" for a value outside the seven types.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", byte(t))
}

// Valid reports whether t is one of the seven packet types.
func (t Type) Valid() bool { return t <= Noop }

// Separator joins packets in an HTTP long-polling payload (ASCII record separator).
const Separator byte = 0x1e

// binaryPrefix marks a base64-encoded binary message: in a polling payload,
// and in a WebSocket text frame of a client that forces base64.
const binaryPrefix byte = 'b'

// ErrInvalidPacket is wrapped by every decoding error.
var ErrInvalidPacket = errors.New("engineio/parser: invalid packet")

// Packet is one Engine.IO packet. Data aliases the decoded input; copy it to
// keep it beyond the input's lifetime.
type Packet struct {
	Type   Type
	Data   []byte
	Binary bool // Data is binary; only meaningful for Message packets
}

// AppendPacket appends the WebSocket encoding of p: for text packets the type
// digit followed by the data, for binary messages the raw data (sent in a
// binary frame).
func AppendPacket(dst []byte, p Packet) []byte {
	if p.Binary {
		return append(dst, p.Data...)
	}
	dst = append(dst, '0'+byte(p.Type))
	return append(dst, p.Data...)
}

// DecodePacket decodes the content of one WebSocket frame. binary tells
// whether the frame was a binary frame; binary frames are always messages.
// Text packets must be valid UTF-8 and start with a known type digit, or be
// 'b' followed by standard base64: a binary message sent as text, as the
// client does with forceBase64 (the data is then newly allocated). Data
// otherwise aliases frame. Errors wrap ErrInvalidPacket.
func DecodePacket(frame []byte, binary bool) (Packet, error) {
	if binary {
		return Packet{Type: Message, Data: frame, Binary: true}, nil
	}
	if len(frame) > 0 && frame[0] == binaryPrefix {
		return decodeBase64(frame[1:])
	}
	return decodeText(frame)
}

// decodeBase64 decodes the base64 text of a binary message.
func decodeBase64(b []byte) (Packet, error) {
	data, err := base64.StdEncoding.AppendDecode(nil, b)
	if err != nil {
		return Packet{}, fmt.Errorf("%w: bad base64 in binary packet: %v", ErrInvalidPacket, err)
	}
	return Packet{Type: Message, Data: data, Binary: true}, nil
}

func decodeText(b []byte) (Packet, error) {
	if len(b) == 0 {
		return Packet{}, fmt.Errorf("%w: empty packet", ErrInvalidPacket)
	}
	t := Type(b[0] - '0')
	if b[0] < '0' || !t.Valid() {
		return Packet{}, fmt.Errorf("%w: unknown packet type %q", ErrInvalidPacket, b[0])
	}
	data := b[1:]
	if !utf8.Valid(data) {
		return Packet{}, fmt.Errorf("%w: text packet is not valid UTF-8", ErrInvalidPacket)
	}
	if len(data) == 0 {
		data = nil
	}
	return Packet{Type: t, Data: data}, nil
}

// AppendPayloadPacket appends the long-polling encoding of p, without a
// separator: text packets as in AppendPacket, binary messages as 'b' followed
// by standard base64.
func AppendPayloadPacket(dst []byte, p Packet) []byte {
	if !p.Binary {
		return AppendPacket(dst, p)
	}
	dst = append(dst, binaryPrefix)
	return base64.StdEncoding.AppendEncode(dst, p.Data)
}

// AppendPayload appends packets joined by Separator, as one long-polling body.
func AppendPayload(dst []byte, packets []Packet) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, Separator)
		}
		dst = AppendPayloadPacket(dst, p)
	}
	return dst
}

// DecodePayload splits a long-polling body into packets and calls fn for each
// in order. It stops at the first malformed packet and returns its error
// (packets before it have been delivered), or at the first error fn returns.
// Binary packets are decoded into freshly allocated slices; text packets
// alias body.
func DecodePayload(body []byte, fn func(Packet) error) error {
	if len(body) == 0 {
		return fmt.Errorf("%w: empty payload", ErrInvalidPacket)
	}
	for start := 0; start <= len(body); {
		end := start
		for end < len(body) && body[end] != Separator {
			end++
		}
		p, err := decodePayloadPacket(body[start:end])
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		start = end + 1
	}
	return nil
}

func decodePayloadPacket(b []byte) (Packet, error) {
	if len(b) > 0 && b[0] == binaryPrefix {
		return decodeBase64(b[1:])
	}
	return decodeText(b)
}
