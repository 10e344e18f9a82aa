package wsconn

import "sync"

// flusher is a small pool of goroutines writing the queues of connections
// scheduled by broadcasts, so a broadcaster never writes to sockets itself
// and every frame queued for a connection meanwhile leaves in one writev.
type flusher struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queue   []*Conn
	idle    int
	workers int
	running int
	stopped bool
	wg      sync.WaitGroup
}

func newFlusher(workers int) *flusher {
	f := &flusher{workers: workers}
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
			c.flush() // engine closing: write inline
		}
		return
	}
	f.queue = append(f.queue, conns...)
	wake := min(f.idle, (len(f.queue)+63)/64)
	for range wake {
		f.cond.Signal()
	}
	for f.running < f.workers && f.idle == 0 {
		f.running++
		f.wg.Add(1)
		go f.work()
		if len(f.queue) <= 64 {
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
		for len(f.queue) == 0 && !f.stopped {
			f.idle++
			f.cond.Wait()
			f.idle--
		}
		if len(f.queue) == 0 && f.stopped {
			f.running--
			f.mu.Unlock()
			return
		}
		n := min(len(f.queue), 64)
		batch = append(batch[:0], f.queue[:n]...)
		rest := copy(f.queue, f.queue[n:])
		clear(f.queue[rest:])
		f.queue = f.queue[:rest]
		if len(f.queue) > 0 && f.idle > 0 {
			f.cond.Signal()
		}
		f.mu.Unlock()
		for i, c := range batch {
			c.flush()
			batch[i] = nil
		}
	}
}

func (f *flusher) stop() {
	f.mu.Lock()
	f.stopped = true
	f.cond.Broadcast()
	f.mu.Unlock()
	f.wg.Wait()
}
