package wsconn

import (
	"bytes"
	"compress/flate"
	"io"
	"sync"

	"github.com/gobwas/ws/wsflate"
)

// Per-message deflate (RFC 7692) is negotiated without context takeover in
// both directions: every message is compressed on its own, so a connection
// keeps no compression window (no memory while idle) and a broadcast frame
// is compressed once for every recipient.

func deflateExtension() *wsflate.Extension {
	return &wsflate.Extension{Parameters: wsflate.Parameters{
		ServerNoContextTakeover: true,
		ClientNoContextTakeover: true,
	}}
}

// deflateTail ends a per-message-deflate payload (RFC 7692 §7.2.2), followed
// by an empty final block so the reader sees a proper end of stream.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

var inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// inflate decompresses a message, refusing output over limit bytes.
func inflate(payload []byte, limit int64) ([]byte, error) {
	fr := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(fr)
	src := io.MultiReader(bytes.NewReader(payload), bytes.NewReader(deflateTail))
	if err := fr.(flate.Resetter).Reset(src, nil); err != nil {
		return nil, protoErr(CloseInvalidData, "bad compressed message: %v", err)
	}
	out, err := io.ReadAll(io.LimitReader(fr, limit+1))
	if err != nil {
		return nil, protoErr(CloseInvalidData, "bad compressed message: %v", err)
	}
	if int64(len(out)) > limit {
		return nil, protoErr(CloseTooBig, "message over %d bytes once decompressed", limit)
	}
	return out, nil
}

var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// AppendCompressedFrame appends a final server frame carrying payload
// compressed with per-message deflate (RSV1 set). Use it only for
// connections where Compressed reports true.
func AppendCompressedFrame(dst []byte, text bool, payload []byte) []byte {
	var buf bytes.Buffer
	w := deflaters.Get().(*flate.Writer)
	w.Reset(&buf)
	_, _ = w.Write(payload)
	_ = w.Flush()
	deflaters.Put(w)
	body := bytes.TrimSuffix(buf.Bytes(), []byte{0x00, 0x00, 0xff, 0xff})
	start := len(dst)
	dst = AppendFrame(dst, text, body)
	dst[start] |= 0x40 // RSV1: compressed
	return dst
}
