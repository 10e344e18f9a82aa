package main

import (
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// newTestEpConn returns an epConn on one end of a socket pair (not registered with any loop)
// and the other end, from which the test reads what the connection writes.
func newTestEpConn(t *testing.T) (*epConn, *worker, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fds[1]) })
	w := &worker{}
	l := &epollLoop{r: &epollReader{w: w}, epfd: -1, conns: map[int32]*epConn{}}
	c := &epConn{fd: fds[0], loop: l}
	t.Cleanup(func() { c.close() })
	return c, w, fds[1]
}

// readClientFrames reads the masked frames the connection wrote to the peer socket.
func readClientFrames(t *testing.T, fd int, n int) []string {
	t.Helper()
	var buf []byte
	var out []string
	deadline := time.Now().Add(2 * time.Second)
	for len(out) < n && time.Now().Before(deadline) {
		b := make([]byte, 4096)
		k, err := unix.Read(fd, b)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(buf, b[:k]...)
		for {
			p, err := readClientFrameBytes(&buf)
			if err != nil {
				break
			}
			out = append(out, p)
		}
	}
	return out
}

func readClientFrameBytes(buf *[]byte) (string, error) {
	hdr, n, ok := frameHeader(*buf)
	if !ok || uint64(len(*buf)-hdr) < n {
		return "", io.ErrUnexpectedEOF
	}
	p := append([]byte(nil), (*buf)[hdr:hdr+int(n)]...)
	maskBytes(p, [4]byte((*buf)[hdr-4:hdr]))
	*buf = (*buf)[hdr+int(n):]
	return string(p), nil
}

func chatFrame(sentNS string, pad int) []byte {
	return serverFrame(`42["chat message",{"username":"bench","message":"` + sentNS + " 1" + strings.Repeat("x", pad) + `"}]`)
}

func TestEpollParseHandlesFramesSplitAnywhere(t *testing.T) {
	// Small, 16-bit and 64-bit payload lengths, a ping, and a fragmented message with a ping
	// between its fragments, fed one byte per read.
	now := time.Now().UnixNano()
	ts := strconv.FormatInt(now, 10)
	var stream []byte
	stream = append(stream, chatFrame(ts, 0)...)
	stream = append(stream, chatFrame(ts, 300)...)
	stream = append(stream, chatFrame(ts, 70000)...)
	stream = append(stream, serverFrame("2")...)
	whole := []byte(`42["chat message",{"username":"bench","message":"` + ts + ` 1"}]`)
	stream = append(stream, 0x01, byte(10)) // text, not final
	stream = append(stream, whole[:10]...)
	stream = append(stream, 0x89, 1, 'p') // ping control frame between fragments
	stream = append(stream, 0x80, byte(len(whole)-10))
	stream = append(stream, whole[10:]...)

	for _, step := range []int{1, 7, 4096, len(stream)} {
		c, w, peer := newTestEpConn(t)
		for i := 0; i < len(stream); i += step {
			if err := c.parse(stream[i:min(i+step, len(stream))]); err != nil {
				t.Fatalf("step %d: parse: %v", step, err)
			}
		}
		if got := w.received.Load(); got != 4 {
			t.Errorf("step %d: received %d chat messages, want 4", step, got)
		}
		if len(c.pending) != 0 || len(c.msg) != 0 {
			t.Errorf("step %d: %d bytes pending, %d in a message", step, len(c.pending), len(c.msg))
		}
		frames := readClientFrames(t, peer, 2)
		if len(frames) != 2 || frames[0] != "3" || frames[1] != "p" {
			t.Errorf("step %d: wrote %q, want the Engine.IO pong and the WebSocket pong", step, frames)
		}
	}
}

func TestEpollParseRefusesOversizedFrames(t *testing.T) {
	c, _, _ := newTestEpConn(t)
	hdr := []byte{0x81, 127, 0, 0, 0, 0, 0x10, 0, 0, 0} // 256 MiB
	if err := c.parse(hdr); err != errTooLarge {
		t.Fatalf("parse = %v, want errTooLarge", err)
	}
}

func TestEpollCloseFrameIsAnsweredAndEndsTheConnection(t *testing.T) {
	c, _, peer := newTestEpConn(t)
	if err := c.parse([]byte{0x88, 0}); err != io.EOF {
		t.Fatalf("parse = %v, want io.EOF", err)
	}
	frames := readClientFrames(t, peer, 1)
	if len(frames) != 1 || frames[0] != "" {
		t.Fatalf("wrote %q, want an empty close frame", frames)
	}
}

func TestEpollHangUpAfterDataIsReadToTheEnd(t *testing.T) {
	c, w, peer := newTestEpConn(t)
	c.loop.buf = make([]byte, 64<<10)
	unix.Write(peer, chatFrame(strconv.FormatInt(time.Now().UnixNano(), 10), 0))
	unix.Shutdown(peer, unix.SHUT_WR) // data and the end of the stream arrive together
	c.readReady(true)
	if got := w.received.Load(); got != 1 {
		t.Errorf("received %d messages, want 1", got)
	}
	if got := w.dropped.Load(); got != 1 {
		t.Errorf("dropped %d connections, want 1 (the hang-up was not read)", got)
	}
}
