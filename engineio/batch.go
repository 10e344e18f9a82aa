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
}

var batches = sync.Pool{New: func() any { return new(Batch) }}

// NewBatch returns an empty batch.
func (srv *Server) NewBatch() *Batch {
	b := batches.Get().(*Batch)
	b.srv = srv
	return b
}

// Send queues packets for s like Session.Send with Deferred; the write
// starts at Flush.
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

// Flush starts the writes of every Send and releases the batch: do not use
// it afterwards.
func (b *Batch) Flush() {
	b.srv.ws.Flush(b.conns)
	clear(b.conns)
	if cap(b.conns) > 1<<16 {
		b.conns = nil
	}
	b.conns = b.conns[:0]
	b.srv = nil
	batches.Put(b)
}
