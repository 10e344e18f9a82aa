package engineio

import (
	"sync/atomic"

	"switchboard/engineio/internal/wsconn"
	"switchboard/engineio/parser"
)

// Packet is an outgoing Engine.IO packet, encoded lazily once per transport
// and shared by every session it is sent to. It is immutable once created
// and safe for concurrent use, so a broadcast builds one Packet and sends the
// same bytes to every recipient.
type Packet struct {
	typ    parser.Type
	data   []byte
	binary bool
	frame  atomic.Pointer[[]byte] // the WebSocket frame, built on first use
	zframe atomic.Pointer[[]byte] // the compressed frame, built on first use
	// For clients that asked for base64 (b64=1), binary messages only: the
	// "b"+base64 text frame, plain and compressed.
	b64frame  atomic.Pointer[[]byte]
	zb64frame atomic.Pointer[[]byte]
}

// NewMessage returns a message packet carrying data, a text message unless
// binary is set. The Packet keeps data: do not modify it afterwards.
func NewMessage(data []byte, binary bool) *Packet {
	return &Packet{typ: parser.Message, data: data, binary: binary}
}

// NewTextMessage returns a text message packet; see NewMessage.
func NewTextMessage(data string) *Packet {
	return &Packet{typ: parser.Message, data: []byte(data)}
}

func controlPacket(t parser.Type, data string) *Packet {
	p := &Packet{typ: t, data: []byte(data)}
	p.wsFrame()
	return p
}

// Data returns the packet's payload. Callers must not modify it.
func (p *Packet) Data() []byte { return p.data }

// Binary reports whether the packet is a binary message.
func (p *Packet) Binary() bool { return p.binary }

// wsFrame returns the complete WebSocket frame for the packet.
func (p *Packet) wsFrame() []byte {
	if f := p.frame.Load(); f != nil {
		return *f
	}
	var f []byte
	if p.binary {
		f = wsconn.AppendFrame(make([]byte, 0, wsconn.FrameSize(len(p.data))), false, p.data)
	} else {
		payload := make([]byte, 0, 1+len(p.data))
		payload = parser.AppendPacket(payload, parser.Packet{Type: p.typ, Data: p.data})
		f = wsconn.AppendFrame(make([]byte, 0, wsconn.FrameSize(len(payload))), true, payload)
	}
	p.frame.CompareAndSwap(nil, &f)
	return *p.frame.Load()
}

// wsFrameFor returns the frame for a connection: compressed when the
// connection negotiated per-message deflate and the payload is large enough;
// for a binary message, a "b"+base64 text frame when b64 is set (the client
// asked for base64).
func (p *Packet) wsFrameFor(conn *wsconn.Conn, d *PerMessageDeflate, b64 bool) []byte {
	compressed := d != nil && conn.Compressed() && len(p.data) >= d.Threshold
	switch {
	case p.binary && b64 && compressed:
		return cachedFrame(&p.zb64frame, func() []byte {
			return wsconn.AppendCompressedFrame(nil, true, p.base64Payload())
		})
	case p.binary && b64:
		return cachedFrame(&p.b64frame, func() []byte {
			payload := p.base64Payload()
			return wsconn.AppendFrame(make([]byte, 0, wsconn.FrameSize(len(payload))), true, payload)
		})
	case !compressed:
		return p.wsFrame()
	}
	return cachedFrame(&p.zframe, func() []byte {
		if p.binary {
			return wsconn.AppendCompressedFrame(nil, false, p.data)
		}
		payload := parser.AppendPacket(make([]byte, 0, 1+len(p.data)), parser.Packet{Type: p.typ, Data: p.data})
		return wsconn.AppendCompressedFrame(nil, true, payload)
	})
}

// base64Payload is a binary message as a base64 text packet: 'b' + base64.
func (p *Packet) base64Payload() []byte {
	return parser.AppendPayloadPacket(nil, parser.Packet{Type: p.typ, Data: p.data, Binary: true})
}

// cachedFrame returns *slot, building it with build on first use (racing
// builders build the same bytes; one wins).
func cachedFrame(slot *atomic.Pointer[[]byte], build func() []byte) []byte {
	if f := slot.Load(); f != nil {
		return *f
	}
	f := build()
	slot.CompareAndSwap(nil, &f)
	return *slot.Load()
}

// appendPolling appends the packet's long-polling encoding.
func (p *Packet) appendPolling(dst []byte) []byte {
	return parser.AppendPayloadPacket(dst, parser.Packet{Type: p.typ, Data: p.data, Binary: p.binary})
}

// size is what a packet queued for polling counts against MaxQueuedBytes:
// its data and packetOverhead.
func (p *Packet) size() int { return len(p.data) + packetOverhead }

// packetOverhead is what a queued packet costs beyond its data when it is
// not shared (an ack, an event to one socket): the Packet (72 bytes, an
// 80-byte allocation), its queue slot and the rounding of a small data
// allocation. Counted as 10, a polling client that never polled could make
// the server hold eight times MaxQueuedBytes in tiny packets. A broadcast's
// Packet, shared by its recipients, is overcounted: the bound errs towards
// memory.
const packetOverhead = 96

// Control packets shared by every session; never modified.
type controls struct {
	ping, pongProbe, noop, close *Packet
}

func newControls() controls {
	return controls{
		ping:      controlPacket(parser.Ping, ""),
		pongProbe: controlPacket(parser.Pong, "probe"),
		noop:      controlPacket(parser.Noop, ""),
		close:     controlPacket(parser.Close, ""),
	}
}
