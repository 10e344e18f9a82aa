package wsconn

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// WebSocket opcodes (RFC 6455 §5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Close status codes used by the server (RFC 6455 §7.4.1).
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	CloseProtocolError = 1002
	CloseNoStatus      = 1005
	CloseInvalidData   = 1007
	ClosePolicy        = 1008
	CloseTooBig        = 1009
)

// AppendFrame appends a complete, unmasked, final server frame carrying
// payload: a text frame when text is true, a binary frame otherwise. The
// result can be shared by many connections: it is never modified by Send.
func AppendFrame(dst []byte, text bool, payload []byte) []byte {
	op := byte(opBinary)
	if text {
		op = opText
	}
	return appendFrame(dst, op, payload)
}

// FrameSize returns the length AppendFrame produces for a payload of n bytes.
func FrameSize(n int) int {
	switch {
	case n < 126:
		return 2 + n
	case n < 1<<16:
		return 4 + n
	default:
		return 10 + n
	}
}

func appendFrame(dst []byte, op byte, payload []byte) []byte {
	n := len(payload)
	dst = append(dst, 0x80|op)
	switch {
	case n < 126:
		dst = append(dst, byte(n))
	case n < 1<<16:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

func closeFrame(code int, reason string) []byte {
	if code == CloseNoStatus {
		return appendFrame(nil, opClose, nil)
	}
	body := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(body, uint16(code))
	body = append(body, reason...)
	return appendFrame(nil, opClose, body)
}

// protocolError is a violation by the peer; Code is the close code to answer with.
type protocolError struct {
	Code int
	Msg  string
}

func (e *protocolError) Error() string { return fmt.Sprintf("wsconn: %s (close %d)", e.Msg, e.Code) }

func protoErr(code int, format string, args ...any) error {
	return &protocolError{Code: code, Msg: fmt.Sprintf(format, args...)}
}

// frameSink receives what the frame reader decodes.
type frameSink interface {
	message(data []byte, binary bool)
	control(op byte, payload []byte) // ping, pong or close
	paused() bool                    // stop delivering; keep the rest pending
}

// frameReader decodes client frames incrementally from arbitrary chunks of
// bytes. It owns no buffer while idle: partial frames are kept in pending and
// fragmented messages in msg, both released once consumed.
type frameReader struct {
	maxMessage int64
	deflate    bool   // per-message deflate was negotiated
	compressed bool   // the message being assembled is compressed
	pending    []byte // bytes of an incomplete frame carried to the next chunk
	msg        []byte // payload of a fragmented message being assembled
	msgOp      byte   // opcode of that message; 0 when none
	closed     bool   // a close frame was received; everything after is ignored
}

// feed decodes every complete frame in chunk (prefixed by any pending bytes)
// and hands them to sink, until sink is paused: the rest stays pending for
// the next feed (feed(nil) resumes). It returns a *protocolError on any
// violation. Frame payloads are unmasked in place: chunk is modified.
func (r *frameReader) feed(chunk []byte, sink frameSink) error {
	buf := chunk
	if len(r.pending) > 0 {
		r.pending = append(r.pending, chunk...)
		buf = r.pending
	}
	for len(buf) > 0 && !r.closed && !sink.paused() {
		n, err := r.frame(buf, sink)
		if err != nil {
			return err
		}
		if n == 0 { // incomplete frame
			break
		}
		buf = buf[n:]
	}
	switch {
	case len(buf) == 0 || r.closed:
		r.pending = nil
	case len(r.pending) > 0:
		// buf is a suffix of pending: move it to the front.
		r.pending = r.pending[:copy(r.pending, buf)]
	default:
		r.pending = append(make([]byte, 0, len(buf)+512), buf...)
	}
	return nil
}

// frame decodes one frame at the start of b. It returns the number of bytes
// consumed, or 0 when b holds only part of the frame.
func (r *frameReader) frame(b []byte, sink frameSink) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	fin := b[0]&0x80 != 0
	rsv := b[0] & 0x70
	op := b[0] & 0x0F
	masked := b[1]&0x80 != 0
	length := int64(b[1] & 0x7F)
	hdr := 2
	switch length {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		length = int64(binary.BigEndian.Uint16(b[2:]))
		hdr = 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		v := binary.BigEndian.Uint64(b[2:])
		if v>>63 != 0 {
			return 0, protoErr(CloseProtocolError, "frame length has the most significant bit set")
		}
		length = int64(v)
		hdr = 10
	}
	rsv1 := rsv == 0x40
	if rsv != 0 && !(rsv1 && r.deflate && (op == opText || op == opBinary)) {
		return 0, protoErr(CloseProtocolError, "reserved bits set without a negotiated extension")
	}
	if !masked {
		return 0, protoErr(CloseProtocolError, "client frame is not masked")
	}
	isControl := op&0x8 != 0
	if isControl {
		if op != opClose && op != opPing && op != opPong {
			return 0, protoErr(CloseProtocolError, "unknown control opcode %#x", op)
		}
		if !fin {
			return 0, protoErr(CloseProtocolError, "fragmented control frame")
		}
		if length > 125 {
			return 0, protoErr(CloseProtocolError, "control frame payload over 125 bytes")
		}
	} else {
		switch op {
		case opText, opBinary:
			if r.msgOp != 0 {
				return 0, protoErr(CloseProtocolError, "new data frame inside a fragmented message")
			}
		case opContinuation:
			if r.msgOp == 0 {
				return 0, protoErr(CloseProtocolError, "continuation frame without a message to continue")
			}
		default:
			return 0, protoErr(CloseProtocolError, "unknown data opcode %#x", op)
		}
		if int64(len(r.msg))+length > r.maxMessage {
			return 0, protoErr(CloseTooBig, "message over %d bytes", r.maxMessage)
		}
	}
	total := int64(hdr+4) + length
	if int64(len(b)) < total {
		return 0, nil
	}
	var mask [4]byte
	copy(mask[:], b[hdr:hdr+4])
	payload := b[hdr+4 : total]
	ws.Cipher(payload, mask, 0)

	if isControl {
		if op == opClose {
			r.closed = true
			if err := validClosePayload(payload); err != nil {
				return 0, err
			}
		}
		sink.control(op, payload)
		return int(total), nil
	}

	if op != opContinuation && fin { // the common case: a whole message in one frame
		return int(total), r.deliver(payload, op, rsv1, sink)
	}
	if op != opContinuation {
		r.msgOp, r.compressed = op, rsv1
	}
	r.msg = append(r.msg, payload...)
	if fin {
		msg, msgOp, compressed := r.msg, r.msgOp, r.compressed
		r.msg, r.msgOp, r.compressed = nil, 0, false
		return int(total), r.deliver(msg, msgOp, compressed, sink)
	}
	return int(total), nil
}

// deliver hands a complete message to sink, decompressed and checked.
func (r *frameReader) deliver(msg []byte, op byte, compressed bool, sink frameSink) error {
	if compressed {
		var err error
		if msg, err = inflate(msg, r.maxMessage); err != nil {
			return err
		}
	}
	if op == opText && !utf8.Valid(msg) {
		return protoErr(CloseInvalidData, "text message is not valid UTF-8")
	}
	sink.message(msg, op == opBinary)
	return nil
}

func validClosePayload(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if len(p) == 1 {
		return protoErr(CloseProtocolError, "close frame with a 1-byte payload")
	}
	code := int(binary.BigEndian.Uint16(p))
	if !validCloseCode(code) {
		return protoErr(CloseProtocolError, "invalid close code %d", code)
	}
	if !utf8.Valid(p[2:]) {
		return protoErr(CloseInvalidData, "close reason is not valid UTF-8")
	}
	return nil
}

func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}
