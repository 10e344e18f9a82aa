package parser

import (
	"math"
	"unicode/utf8"
)

// maxCachedNamespace is the longest namespace a Decoder remembers for reuse.
const maxCachedNamespace = 128

// Decoder reassembles packets from the Engine.IO messages of one connection:
// text messages go to DecodeText, binary ones to DecodeBinary, in the order
// they arrive. The zero value is ready to use. A Decoder is not safe for
// concurrent use.
//
// Validity is that of the reference parser's decodeString and isPayloadValid,
// made stricter where the reference is lax by accident (see DecodeText).
// After any error the partially received packet, if any, is dropped and the
// Decoder is ready for a new packet; the socketio layer is expected to close
// the connection anyway.
type Decoder struct {
	// MaxAttachments is the most binary attachments a packet may announce;
	// zero or a negative value means DefaultMaxAttachments.
	MaxAttachments int

	pending  *Packet // binary packet waiting for its attachments
	expected int     // attachments pending announced

	// namespaces remembers recently decoded namespaces so that the packets
	// of a connection share one string per namespace instead of allocating.
	namespaces [4]string
	nextNS     int
}

// header is the part of a text message before the payload.
type header struct {
	typ         Type
	attachments int
	namespace   []byte // nil when absent
	id          int64
	hasID       bool
	payload     []byte // everything after the id; nil when empty
}

// DecodeText decodes one text message (what follows the Engine.IO "4"). It
// returns the packet when it is complete. For a BinaryEvent or BinaryAck
// announcing N > 0 attachments it returns (nil, nil), and the packet is
// returned by the DecodeBinary call that receives the Nth attachment.
//
// The message must be valid UTF-8; the ack id, when present, a run of ASCII
// digits that fits in an int64; the attachment count a run of ASCII digits
// followed by '-'. The payload must be valid JSON and:
//   - CONNECT: absent or an object;
//   - DISCONNECT: absent;
//   - CONNECT_ERROR: a string or an object;
//   - EVENT, BINARY_EVENT: a non-empty array whose first element is a number
//     or a string other than the reserved event names "connect",
//     "connect_error", "disconnect", "disconnecting", "newListener" and
//     "removeListener";
//   - ACK, BINARY_ACK: an array, possibly empty.
//
// Packet.Data is the payload without surrounding whitespace. Binary packets
// keep their type (the reference decoder reports them as EVENT and ACK) and
// announce at least one attachment: a count of 0 is rejected, as the
// reference decoder does (socket.io-parser 4.2.7).
//
// Where the reference decoder is lax, this one rejects: EVENT, ACK and
// CONNECT_ERROR packets without payload (which the reference passes on
// unchecked); an empty message, or one whose type is whitespace (which
// JavaScript's Number() reads as 0, CONNECT); attachment counts and ack ids
// that Number() reads but that are not digits ("", " 1", "1\t2", "1e0",
// "0x1"); ack ids too large for an int64 (the reference rounds them).
// Whitespace right before the payload, which the reference reads as ack id
// 0, is just whitespace here. test/interop's TestDecoderAgreesWithTheReferenceDecoder
// holds the two decoders to this on thousands of packets.
//
// A text message arriving while attachments are still expected is an error,
// and drops the partial packet. Every error wraps ErrInvalidPacket. The
// returned packet does not alias msg.
func (d *Decoder) DecodeText(msg []byte) (*Packet, error) {
	if d.pending != nil {
		missing := d.expected - len(d.pending.Attachments)
		d.Reset()
		return nil, invalid("text message while %d attachment(s) are still expected", missing)
	}
	if !utf8.Valid(msg) {
		return nil, invalid("text message is not valid UTF-8")
	}
	h, err := d.parseHeader(msg)
	if err != nil {
		return nil, err
	}
	data := trimSpace(h.payload)
	if err := checkPayload(h.typ, h.payload, data); err != nil {
		return nil, err
	}
	p := newPacket(data)
	p.Type = h.typ
	p.Namespace = d.namespace(h.namespace)
	p.ID, p.HasID = h.id, h.hasID
	if !h.typ.binary() {
		return p, nil
	}
	p.Attachments = make([][]byte, 0, h.attachments)
	d.pending, d.expected = p, h.attachments
	return nil, nil
}

// DecodeBinary takes one binary message as the next attachment of the binary
// packet announced by the last DecodeText call. It returns (nil, nil) while
// more attachments are expected, and the complete packet with the last one,
// after checking that every placeholder in its payload names one of its
// attachments. A binary message while no attachment is expected is an error.
// Every error wraps ErrInvalidPacket. The attachment is copied: msg may be
// reused as soon as DecodeBinary returns.
func (d *Decoder) DecodeBinary(msg []byte) (*Packet, error) {
	p := d.pending
	if p == nil {
		return nil, invalid("binary message while no attachment is expected")
	}
	attachment := make([]byte, len(msg))
	copy(attachment, msg)
	p.Attachments = append(p.Attachments, attachment)
	if len(p.Attachments) < d.expected {
		return nil, nil
	}
	d.Reset()
	if err := checkPlaceholders(p.Data, len(p.Attachments)); err != nil {
		return nil, err
	}
	return p, nil
}

// Reset drops any partially received packet, so that the next message is
// expected to be the text part of a new packet.
func (d *Decoder) Reset() {
	d.pending, d.expected = nil, 0
}

func (d *Decoder) maxAttachments() int {
	if d.MaxAttachments <= 0 {
		return DefaultMaxAttachments
	}
	return d.MaxAttachments
}

// parseHeader splits msg into its type, attachment count, namespace, ack id
// and payload, checking all but the payload.
func (d *Decoder) parseHeader(msg []byte) (header, error) {
	var h header
	if len(msg) == 0 {
		return h, invalid("empty message")
	}
	if msg[0] < '0' || msg[0] > '0'+byte(BinaryAck) {
		return h, invalid("unknown packet type %q", msg[0])
	}
	h.typ = Type(msg[0] - '0')
	i := 1

	if h.typ.binary() {
		limit := int64(min(d.maxAttachments(), math.MaxInt32))
		var n int64
		start := i
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			if n <= limit { // once above the limit, stop accumulating: n cannot overflow
				n = n*10 + int64(msg[i]-'0')
			}
		}
		switch {
		case i == start:
			return h, invalid("%s packet without an attachment count", h.typ)
		case i == len(msg) || msg[i] != '-':
			return h, invalid("attachment count not followed by '-'")
		case n == 0:
			return h, invalid("%s packet announcing 0 attachments", h.typ)
		case n > limit:
			return h, invalid("more than %d attachments", limit)
		}
		h.attachments = int(n)
		i++
	}

	if i < len(msg) && msg[i] == '/' {
		start := i
		for i < len(msg) && msg[i] != ',' {
			i++
		}
		h.namespace = msg[start:i]
		if i < len(msg) {
			i++ // the comma
		}
	}

	if i < len(msg) && isDigit(msg[i]) {
		h.hasID = true
		for ; i < len(msg) && isDigit(msg[i]); i++ {
			digit := int64(msg[i] - '0')
			if h.id > (math.MaxInt64-digit)/10 {
				return h, invalid("ack id does not fit in 64 bits")
			}
			h.id = h.id*10 + digit
		}
	}

	if i < len(msg) {
		h.payload = msg[i:]
	}
	return h, nil
}

// checkPayload checks the payload of a packet of type t: raw is everything
// after the ack id (nil when absent), data the same without surrounding
// whitespace.
func checkPayload(t Type, raw, data []byte) error {
	if raw == nil {
		switch t {
		case Connect, Disconnect:
			return nil
		}
		return invalid("%s packet without payload", t)
	}
	if t == Disconnect {
		return invalid("DISCONNECT packet with a payload")
	}
	s := scanner{data: raw}
	if err := s.whole(); err != nil {
		return err
	}
	// data is a valid JSON value, so it is not empty and its first byte
	// tells its kind.
	switch t {
	case Connect:
		if data[0] != '{' {
			return invalid("CONNECT payload is not a JSON object")
		}
	case ConnectError:
		if data[0] != '{' && data[0] != '"' {
			return invalid("CONNECT_ERROR payload is neither a JSON object nor a string")
		}
	case Ack, BinaryAck:
		if data[0] != '[' {
			return invalid("%s payload is not a JSON array", t)
		}
	case Event, BinaryEvent:
		if data[0] != '[' {
			return invalid("%s payload is not a JSON array", t)
		}
		return checkEventName(t, data)
	}
	return nil
}

// checkEventName checks the first element of data, the valid JSON array
// payload of a packet of type t: it must be a number or a string that is not
// a reserved event name.
func checkEventName(t Type, data []byte) error {
	s := scanner{data: data, pos: 1}
	s.skipSpace()
	switch c := data[s.pos]; {
	case c == '-' || isDigit(c):
		return nil
	case c == ']':
		return invalid("%s payload is an empty array", t)
	case c != '"':
		return invalid("event name is neither a string nor a number")
	}
	start := s.pos
	escaped, err := s.str()
	if err != nil {
		return err
	}
	token := data[start:s.pos]
	name := token[1 : len(token)-1]
	if escaped {
		unquoted, err := UnquoteString(token)
		if err != nil {
			return err
		}
		name = []byte(unquoted)
	}
	if reserved(name) {
		return invalid("reserved event name %q", name)
	}
	return nil
}

// reserved reports whether name is one of the event names the reference
// implementation reserves for itself.
func reserved(name []byte) bool {
	switch string(name) {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// namespace returns b, which starts with '/', as a string; nil means "/".
// Recently seen namespaces are reused rather than allocated again.
func (d *Decoder) namespace(b []byte) string {
	if len(b) <= 1 {
		return "/"
	}
	for _, ns := range d.namespaces {
		if ns == string(b) {
			return ns
		}
	}
	ns := string(b)
	if len(ns) <= maxCachedNamespace {
		d.namespaces[d.nextNS] = ns
		d.nextNS = (d.nextNS + 1) % len(d.namespaces)
	}
	return ns
}

// Decoded packets carry their payload in the same allocation as the Packet
// when it is small: one allocation per decoded event instead of two. The
// sizes make the structs fill Go's 144- and 256-byte size classes exactly
// (Packet itself is 88 bytes on 64-bit platforms).
type smallPacket struct {
	Packet
	buf [56]byte
}

type mediumPacket struct {
	Packet
	buf [168]byte
}

// newPacket returns a new Packet whose Data is a copy of data (nil when data
// is empty). Data's capacity equals its length, so appending to it never
// writes into memory the packet shares.
func newPacket(data []byte) *Packet {
	n := len(data)
	switch {
	case n == 0:
		return new(Packet)
	case n <= len(smallPacket{}.buf):
		sp := new(smallPacket)
		sp.Data = sp.buf[:n:n]
		copy(sp.Data, data)
		return &sp.Packet
	case n <= len(mediumPacket{}.buf):
		mp := new(mediumPacket)
		mp.Data = mp.buf[:n:n]
		copy(mp.Data, data)
		return &mp.Packet
	}
	p := new(Packet)
	p.Data = make([]byte, n)
	copy(p.Data, data)
	return p
}
