package wsconn

import (
	"bytes"
	"errors"
	"testing"

	"github.com/gobwas/ws"
)

// collectSink records what the frame reader delivers.
type collectSink struct {
	msgs     [][]byte
	controls int
}

func (s *collectSink) message(data []byte, binary bool) { s.msgs = append(s.msgs, bytes.Clone(data)) }
func (s *collectSink) control(op byte, payload []byte)  { s.controls++ }
func (s *collectSink) paused() bool                     { return false }

func maskedFrame(f ws.Frame) []byte {
	var b bytes.Buffer
	_ = ws.WriteFrame(&b, ws.MaskFrame(f))
	return b.Bytes()
}

// FuzzFrameReader feeds arbitrary bytes, split at an arbitrary point, to the
// frame reader: it must never panic, report only protocol errors, never
// deliver more than the size limit, and decode the same frames however the
// input is split.
func FuzzFrameReader(f *testing.F) {
	f.Add(maskedFrame(ws.NewTextFrame([]byte("4hello"))), 3)
	f.Add(append(maskedFrame(ws.NewFrame(ws.OpText, false, []byte("ab"))), maskedFrame(ws.NewFrame(ws.OpContinuation, true, []byte("cd")))...), 5)
	f.Add(maskedFrame(ws.NewBinaryFrame(bytes.Repeat([]byte{7}, 300))), 100)
	f.Add(maskedFrame(ws.NewPingFrame([]byte("p"))), 1)
	f.Add([]byte{0x81, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}, 4)
	f.Fuzz(func(t *testing.T, data []byte, split int) {
		const limit = 1 << 12
		whole := &collectSink{}
		r1 := frameReader{maxMessage: limit}
		err1 := r1.feed(bytes.Clone(data), whole)

		parts := &collectSink{}
		r2 := frameReader{maxMessage: limit}
		if split < 0 {
			split = -split
		}
		if len(data) > 0 {
			split %= len(data) + 1
		} else {
			split = 0
		}
		err2 := r2.feed(bytes.Clone(data[:split]), parts)
		if err2 == nil {
			err2 = r2.feed(bytes.Clone(data[split:]), parts)
		}
		for _, err := range []error{err1, err2} {
			var pe *protocolError
			if err != nil && !errors.As(err, &pe) {
				t.Fatalf("not a protocol error: %v", err)
			}
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("split changes the outcome: %v vs %v", err1, err2)
		}
		if len(whole.msgs) != len(parts.msgs) || whole.controls != parts.controls {
			t.Fatalf("split changes the frames: %d/%d messages, %d/%d controls", len(whole.msgs), len(parts.msgs), whole.controls, parts.controls)
		}
		for i := range whole.msgs {
			if !bytes.Equal(whole.msgs[i], parts.msgs[i]) {
				t.Fatalf("message %d differs", i)
			}
			if len(whole.msgs[i]) > limit {
				t.Fatalf("message over the limit: %d", len(whole.msgs[i]))
			}
		}
	})
}
