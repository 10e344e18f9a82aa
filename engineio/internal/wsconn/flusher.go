package wsconn

import "sync"

// flusher is a small pool of goroutines writing the queues of connections
// scheduled by broadcasts, so a broadcaster never writes to sockets itself
// and every frame queued for a connection meanwhile leaves in one writev.
type flusher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*Conn // pending from head on
	head    int
	idle    int
	workers int
	running int
	stopped bool
	wg      sync.WaitGroup
	flush   func(*Conn) // (*Conn).flush; a stub in tests
}

func newFlusher(workers int) *flusher {
	f := &flusher{workers: workers, flush: (*Conn).flush}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// schedule asks a worker to flush c. The caller has set c.writing.
func (f *flusher) schedule(c *Conn) {
	one := [1]*Conn{c}
	f.scheduleMany(one[:])
}

// scheduleMany asks the workers to flush conns, in one critical section.
// The caller has set writing on each.
func (f *flusher) scheduleMany(conns []*Conn) {
	if len(conns) == 0 {
		return
	}
	f.mu.Lock()
	if f.stopped {
		f.mu.Unlock()
		for _, c := range conns {
			f.flush(c) // engine closing: write inline
		}
		return
	}
	if f.head > 0 && f.head >= len(f.queue)/2 {
		// Compact now and then, not on every batch taken: a broadcast to
		// N connections queues them all at once.
		rest := copy(f.queue, f.queue[f.head:])
		clear(f.queue[rest:])
		f.queue = f.queue[:rest]
		f.head = 0
	}
	f.queue = append(f.queue, conns...)
	wake := min(f.idle, (f.pending()+63)/64)
	for range wake {
		f.cond.Signal()
	}
	for f.running < f.workers && f.idle == 0 {
		f.running++
		f.wg.Add(1)
		go f.work()
		if f.pending() <= 64 {
			break
		}
	}
	f.mu.Unlock()
}

func (f *flusher) work() {
	defer f.wg.Done()
	var batch []*Conn
	for {
		f.mu.Lock()
		for f.pending() == 0 && !f.stopped {
			f.idle++
			f.cond.Wait()
			f.idle--
		}
		if f.pending() == 0 && f.stopped {
			f.running--
			f.mu.Unlock()
			return
		}
		n := min(f.pending(), 64)
		batch = append(batch[:0], f.queue[f.head:f.head+n]...)
		clear(f.queue[f.head : f.head+n])
		f.head += n
		if f.head == len(f.queue) {
			f.queue = f.queue[:0]
			f.head = 0
		}
		if f.pending() > 0 && f.idle > 0 {
			f.cond.Signal()
		}
		f.mu.Unlock()
		for i, c := range batch {
			f.flush(c)
			batch[i] = nil
		}
	}
}

// pending is the number of connections waiting for a worker; f.mu held.
func (f *flusher) pending() int { return len(f.queue) - f.head }

func (f *flusher) stop() {
	f.mu.Lock()
	f.stopped = true
	f.cond.Broadcast()
	f.mu.Unlock()
	f.wg.Wait()
}
