package wsconn

import (
	"net"
	"time"
)

// flush writes the queue in netpoll mode until it is empty or the socket is
// full. The caller owns the write side (c.writing).
func (c *Conn) flush() {
	for {
		c.mu.Lock()
		if c.state == stateClosed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 {
			after := c.afterDrain()
			c.mu.Unlock()
			if after != nil {
				after()
			}
			return
		}
		bufs := c.takeQueue()
		c.outEdge = false
		c.mu.Unlock()

		n, err := c.loop.writev(c, bufs)

		c.mu.Lock()
		if c.state == stateClosed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.queued -= n
		if err == errWouldBlock {
			rest := consume(bufs, n)
			c.queue = append(rest, c.queue...)
			if c.outEdge { // became writable while we wrote: try again
				c.mu.Unlock()
				continue
			}
			c.waitOut = true
			c.mu.Unlock()
			return
		}
		if err != nil {
			c.writing = false
			c.mu.Unlock()
			c.Abort(err)
			return
		}
		c.recycle(bufs)
		c.mu.Unlock()
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

// flushBlocking writes the queue in goroutine mode, in its own goroutine.
func (c *Conn) flushBlocking() {
	for {
		c.mu.Lock()
		if c.state == stateClosed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		if len(c.queue) == 0 {
			after := c.afterDrain()
			c.mu.Unlock()
			if after != nil {
				after()
			}
			return
		}
		bufs := c.takeQueue()
		c.mu.Unlock()

		total := 0
		for _, b := range bufs {
			total += len(b)
		}
		_ = c.nc.SetWriteDeadline(time.Now().Add(c.eng.opts.WriteTimeout))
		nb := net.Buffers(bufs)
		_, err := nb.WriteTo(c.nc)

		c.mu.Lock()
		if c.state == stateClosed {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.queued -= total
		if err != nil {
			c.writing = false
			c.mu.Unlock()
			c.Abort(err)
			return
		}
		c.recycle(bufs)
		c.mu.Unlock()
	}
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
