package wsconn

import (
	"sync"
	"testing"
)

// TestFlusherTakesEveryScheduledConnectionOnce schedules connections in
// slices while slow workers take them 64 at a time, so the queue is
// appended to while partly taken (and compacted): every connection is
// flushed exactly once.
func TestFlusherTakesEveryScheduledConnectionOnce(t *testing.T) {
	for _, workers := range []int{1, 2, 3} {
		f := newFlusher(workers)
		var mu sync.Mutex
		seen := map[*Conn]int{}
		gate := make(chan struct{})
		f.flush = func(c *Conn) {
			<-gate // held until the scheduler is done: the queue fills up
			mu.Lock()
			seen[c]++
			mu.Unlock()
		}
		const n = 5000
		conns := make([]*Conn, n)
		for i := range conns {
			conns[i] = new(Conn)
		}
		released := false
		for i := 0; i < n; i += 128 {
			f.scheduleMany(conns[i:min(i+128, n)])
			if i == 1024 {
				close(gate) // workers now take batches while more arrive
				released = true
			}
		}
		if !released {
			close(gate)
		}
		f.stop()
		if len(seen) != n {
			t.Fatalf("%d workers: %d of %d connections flushed", workers, len(seen), n)
		}
		for c, k := range seen {
			if k != 1 {
				t.Fatalf("%d workers: connection %p flushed %d times", workers, c, k)
			}
		}
	}
}
