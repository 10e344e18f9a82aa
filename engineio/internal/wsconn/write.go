package wsconn

import (
	"net"
	"time"
)

// nextBatch hands the writer the frames queued so far. It returns false
// when the writer is done: the queue is empty (the write side is released,
// and a closing connection shut for writing) or the connection is closed.
func (c *Conn) nextBatch() ([][]byte, bool) {
	c.mu.Lock()
	if c.state == stateClosed {
		c.writing = false
		c.mu.Unlock()
		return nil, false
	}
	if len(c.queue) == 0 {
		after := c.afterDrain()
		c.mu.Unlock()
		if after != nil {
			after()
		}
		return nil, false
	}
	bufs := c.takeQueue()
	c.outEdge = false
	c.mu.Unlock()
	return bufs, true
}

// wrote accounts for n bytes of bufs written. It reports whether the writer
// goes on; on errWouldBlock the unwritten rest goes back to the front of the
// queue and the writer waits for EPOLLOUT (unless the socket became writable
// meanwhile).
func (c *Conn) wrote(bufs [][]byte, n int, err error) bool {
	c.mu.Lock()
	if c.state == stateClosed {
		c.writing = false
		c.mu.Unlock()
		return false
	}
	switch {
	case err == errWouldBlock:
		rest := consume(bufs, n)
		c.queued -= n + (len(bufs)-len(rest))*frameOverhead
		c.queue = append(rest, c.queue...)
		if c.outEdge { // became writable while we wrote: go on
			c.mu.Unlock()
			return true
		}
		c.waitOut = true
		c.mu.Unlock()
		return false
	case err != nil:
		c.writing = false
		c.mu.Unlock()
		c.Abort(err)
		return false
	}
	c.queued -= n + len(bufs)*frameOverhead
	c.recycle(bufs)
	if len(c.queue) == 0 { // done: release the write side in this same critical section
		after := c.afterDrain()
		c.mu.Unlock()
		if after != nil {
			after()
		}
		return false
	}
	c.mu.Unlock()
	return true
}

// flush writes the queue in netpoll mode, without blocking, until it is
// empty or the socket is full. The caller owns the write side (c.writing).
func (c *Conn) flush() {
	for {
		bufs, ok := c.nextBatch()
		if !ok {
			return
		}
		n, err := c.loop.writev(c, bufs)
		if !c.wrote(bufs, n, err) {
			return
		}
	}
}

// flushBlocking writes the queue in goroutine mode, in its own goroutine.
func (c *Conn) flushBlocking() {
	for {
		bufs, ok := c.nextBatch()
		if !ok {
			return
		}
		total := 0
		for _, b := range bufs {
			total += len(b)
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.eng.opts.WriteTimeout))
		nb := net.Buffers(bufs)
		if _, err := nb.WriteTo(c.nc); err != nil {
			c.wrote(bufs, total, err)
			return
		}
		if !c.wrote(bufs, total, nil) {
			return
		}
	}
}

// onWritable is called by the loop on EPOLLOUT.
func (c *Conn) onWritable() {
	c.mu.Lock()
	if !c.waitOut {
		c.outEdge = true
		c.mu.Unlock()
		return
	}
	c.waitOut = false
	c.mu.Unlock()
	c.eng.flusher.schedule(c)
}

func (c *Conn) shutdownWrite() {
	if c.loop == nil {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		return
	}
	c.loop.shutdown(c, false)
}

func (c *Conn) shutdownBoth() {
	if c.loop == nil {
		_ = c.nc.Close()
		return
	}
	c.loop.shutdown(c, true)
}
