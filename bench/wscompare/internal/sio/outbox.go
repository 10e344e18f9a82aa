package sio

import "sync"

// DefaultOutboxLimit is how many messages may wait for one connection before it counts as a
// slow consumer and is dropped.
const DefaultOutboxLimit = 1024

// Outbox is a bounded per-connection send queue drained by a writer goroutine that exists only
// while there is something to write: an idle connection costs no goroutine, and a burst is
// handed to flush as one batch. Used by the servers whose library leaves write concurrency to
// the caller (gorilla, coder, gobwas). Safe for concurrent use.
type Outbox[T any] struct {
	mu      sync.Mutex
	queue   []T
	spare   []T // the previous batch's array, reused
	running bool
	closed  bool
}

// Push queues v and, if no writer is running, starts one that calls flush with everything
// queued until the queue is empty. It returns false, queueing nothing, when the outbox is closed
// or already holds limit messages; the caller should then close the connection. If flush
// returns an error the outbox closes and drops what is queued.
func (o *Outbox[T]) Push(v T, limit int, flush func([]T) error) bool {
	o.mu.Lock()
	if o.closed || len(o.queue) >= limit {
		o.mu.Unlock()
		return false
	}
	o.queue = append(o.queue, v)
	start := !o.running
	o.running = true
	o.mu.Unlock()
	if start {
		go o.drain(flush)
	}
	return true
}

func (o *Outbox[T]) drain(flush func([]T) error) {
	o.mu.Lock()
	for len(o.queue) > 0 && !o.closed {
		batch := o.queue
		o.queue, o.spare = o.spare[:0], nil
		o.mu.Unlock()
		err := flush(batch)
		clear(batch)
		o.mu.Lock()
		if o.spare == nil {
			o.spare = batch[:0]
		}
		if err != nil {
			o.closed = true
		}
	}
	o.running = false
	if o.closed {
		clear(o.queue)
		o.queue, o.spare = nil, nil
	}
	o.mu.Unlock()
}

// Close makes every later Push fail and drops what is queued.
func (o *Outbox[T]) Close() {
	o.mu.Lock()
	o.closed = true
	clear(o.queue)
	o.queue = nil
	o.mu.Unlock()
}

// PushOrWrite is Push with a fast path: when nothing is queued and no writer runs, it first
// calls direct(v) itself, under the outbox's lock, which must not block (a non-blocking write).
// direct returns what it could not write; only that is queued for the writer goroutine. So an
// uncongested connection is written inline with no goroutine, and a congested one falls back to
// the queue, whose writer batches.
func (o *Outbox[T]) PushOrWrite(v T, limit int, direct func(T) (rest T, done bool), flush func([]T) error) bool {
	o.mu.Lock()
	if o.closed || len(o.queue) >= limit {
		o.mu.Unlock()
		return false
	}
	if !o.running && len(o.queue) == 0 {
		rest, done := direct(v)
		if done {
			o.mu.Unlock()
			return true
		}
		v = rest
	}
	o.queue = append(o.queue, v)
	start := !o.running
	o.running = true
	o.mu.Unlock()
	if start {
		go o.drain(flush)
	}
	return true
}
