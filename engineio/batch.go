package engineio

import (
	"sync"

	"switchboard/engineio/internal/wsconn"
)

// Batch sends packets to many sessions — a broadcast — and hands the
// resulting WebSocket writes to the server's flusher goroutines in chunks
// (and the rest at Flush) instead of one scheduling per recipient. The first
// chunk leaves while the broadcast is still queueing for the others, so a
// large room's first recipients are not kept waiting for its last ones. Get
// one with Server.NewBatch. A Batch is not safe for concurrent use.
type Batch struct {
	srv   *Server
	conns []*wsconn.Conn
	// group is the packets of the Sends of several packets at once (every
	// recipient's, in a broadcast of several events), and joined their
	// WebSocket frames joined into one buffer per kind of connection
	// (compressed or not, base64 or not), built on first use: a recipient
	// queues one buffer, so the writer sends it as one iovec.
	group  []*Packet
	joined [4][]byte
}

var batches = sync.Pool{New: func() any { return new(Batch) }}

// NewBatch returns an empty batch.
func (srv *Server) NewBatch() *Batch {
	b := batches.Get().(*Batch)
	b.srv = srv
	return b
}

// Send queues packets for s like Session.Send with Deferred; the write
// starts at Flush. Several packets sent to many sessions are best given as
// the same slice each time, unmodified: their WebSocket frames are then
// joined once into one buffer that every such recipient queues (one iovec
// per recipient).
func (b *Batch) Send(s *Session, opts SendOptions, packets ...*Packet) error {
	return s.send(opts|Deferred, packets, b)
}

// batchChunk is how many connections a Batch collects before handing them to
// the flushers. In the paced benchmark (5,000 recipients) handing them all at
// the end delayed the first write by ~2 ms.
const batchChunk = 128

func (b *Batch) add(c *wsconn.Conn) {
	b.conns = append(b.conns, c)
	if len(b.conns) >= batchChunk {
		b.srv.ws.Flush(b.conns)
		clear(b.conns)
		b.conns = b.conns[:0]
	}
}

// joinedFrames returns the frames of packets for conn, joined into one
// buffer shared by every recipient of the same kind.
func (b *Batch) joinedFrames(packets []*Packet, conn *wsconn.Conn, d *PerMessageDeflate, b64 bool) []byte {
	if len(b.group) != len(packets) || &b.group[0] != &packets[0] {
		b.group = packets
		clear(b.joined[:])
	}
	kind := 0
	if d != nil && conn.Compressed() {
		kind |= 1
	}
	if b64 {
		kind |= 2
	}
	if b.joined[kind] == nil {
		var frames [][]byte
		n := 0
		for _, p := range packets {
			f := p.wsFrameFor(conn, d, b64)
			frames = append(frames, f)
			n += len(f)
		}
		joined := make([]byte, 0, n)
		for _, f := range frames {
			joined = append(joined, f...)
		}
		b.joined[kind] = joined
	}
	return b.joined[kind]
}

// Flush starts the writes of every Send and releases the batch: do not use
// it afterwards.
func (b *Batch) Flush() {
	b.srv.ws.Flush(b.conns)
	clear(b.conns)
	b.group = nil
	clear(b.joined[:])
	if cap(b.conns) > 1<<16 {
		b.conns = nil
	}
	b.conns = b.conns[:0]
	b.srv = nil
	batches.Put(b)
}
