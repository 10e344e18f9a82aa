package main

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// The epoll reader's frame parser reads the same messages whatever the reads' boundaries: a
// stream parsed whole and parsed in two pieces counts the same chat messages, fails alike, and
// never panics.
func FuzzEpollParse(f *testing.F) {
	ts := strconv.FormatInt(time.Now().UnixNano(), 10)
	f.Add(append(chatFrame(ts, 0), serverFrame("2")...), uint16(3))
	f.Add(chatFrame(ts, 300), uint16(200))
	f.Add([]byte{0x01, 2, '4', '2', 0x89, 1, 'p', 0x80, 1, '1'}, uint16(5))
	f.Add([]byte{0x88, 0}, uint16(1))
	// A masked chat message (servers must not mask; parse tolerates it by unmasking in place),
	// cut inside its payload.
	f.Add(appendMaskedFrame(nil, opText, []byte(`42["chat message",{"username":"bench","message":"`+ts+` 1"}]`)), uint16(20))
	f.Add([]byte{0x81, 127, 0, 0, 0, 0, 0x10, 0, 0, 0}, uint16(4))
	f.Fuzz(func(t *testing.T, stream []byte, cut uint16) {
		if len(stream) > 4096 { // keeps the pongs written well under the socket buffer
			return
		}
		k := int(cut) % (len(stream) + 1)
		// parse unmasks masked frames in place (its input is the loop's read buffer), so
		// each parser gets its own copy of the stream.
		whole, w1, _ := newTestEpConn(t)
		err1 := whole.parse(bytes.Clone(stream))
		split, w2, _ := newTestEpConn(t)
		pieces := bytes.Clone(stream)
		err2 := split.parse(pieces[:k])
		if err2 == nil {
			err2 = split.parse(pieces[k:])
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("cut at %d: whole: %v, in two pieces: %v", k, err1, err2)
		}
		if a, b := w1.received.Load(), w2.received.Load(); a != b {
			t.Fatalf("cut at %d: %d chat messages whole, %d in two pieces", k, a, b)
		}
		if err1 == nil && (len(whole.pending) != len(split.pending) || len(whole.msg) != len(split.msg)) {
			t.Fatalf("cut at %d: state whole %d/%d, in two pieces %d/%d", k, len(whole.pending), len(whole.msg), len(split.pending), len(split.msg))
		}
	})
}
