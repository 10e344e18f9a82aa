package gobwasconn

import (
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"switchboard/bench/wscompare/internal/sio"
)

// A WritePool is a few long-lived goroutines that write for every connection: a send appends
// the frame to the connection's queue and, if the connection is not already waiting for a
// writer, hands it to the pool; a pool goroutine writes everything queued with one
// non-blocking writev. So a steady stream costs one write per delivery and no goroutine
// start-up, a burst is batched, and a connection whose socket is full is handed to a goroutine
// of its own that waits for it (the pool never blocks on a slow reader).
type WritePool struct {
	ready chan *Conn // connections with frames queued; each at most once
}

// maxPooledConns bounds the ready channel so that handing a connection to the pool never
// blocks (each connection is in it at most once). A real implementation would use an
// unbounded list.
const maxPooledConns = 1 << 16

// NewWritePool starts n writing goroutines.
func NewWritePool(n int) *WritePool {
	p := &WritePool{ready: make(chan *Conn, maxPooledConns)}
	for range n {
		go p.run()
	}
	return p
}

type writeState int

const (
	writeIdle      writeState = iota // nothing queued
	writeScheduled                   // in the pool's ready channel or being written by it
	writeSlow                        // a goroutine of its own is waiting for the socket
)

// pooled is the per-connection half of a WritePool.
type pooled struct {
	pool  *WritePool
	raw   syscall.RawConn
	queue [][]byte // guarded by Conn.wmu, like state
	spare [][]byte
	state writeState
}

// UsePool makes the connection's sends go through p. NC must be a syscall.Conn.
func (c *Conn) UsePool(p *WritePool) error {
	sc, ok := c.NC.(syscall.Conn)
	if !ok {
		return errors.New("not a syscall.Conn")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	c.pw = &pooled{pool: p, raw: raw}
	return nil
}

// sendPooled queues frame and schedules the connection if it is idle.
func (c *Conn) sendPooled(frame []byte) bool {
	pw := c.pw
	c.wmu.Lock()
	if c.wclosed || len(pw.queue) >= sio.DefaultOutboxLimit {
		c.wmu.Unlock()
		return false
	}
	pw.queue = append(pw.queue, frame)
	schedule := pw.state == writeIdle
	if schedule {
		pw.state = writeScheduled
	}
	c.wmu.Unlock()
	if schedule {
		pw.pool.ready <- c
	}
	return true
}

func (p *WritePool) run() {
	for c := range p.ready {
		c.writePooled()
	}
}

// writePooled writes what is queued without waiting; what the socket does not take goes to a
// goroutine of the connection's own.
func (c *Conn) writePooled() {
	pw := c.pw
	c.wmu.Lock()
	batch := pw.queue
	pw.queue, pw.spare = pw.spare[:0], nil
	c.wmu.Unlock()

	rest, err := c.writevNow(batch)
	if err != nil {
		c.Close()
		return
	}
	c.wmu.Lock()
	if len(rest) > 0 {
		pw.queue = append(rest, pw.queue...)
		pw.state = writeSlow
		c.wmu.Unlock()
		go c.drainSlow()
		return
	}
	clear(batch)
	if pw.spare == nil {
		pw.spare = batch[:0]
	}
	if len(pw.queue) > 0 && !c.wclosed {
		c.wmu.Unlock()
		pw.pool.ready <- c // more arrived meanwhile: stay scheduled
		return
	}
	pw.state = writeIdle
	c.wmu.Unlock()
}

// writevNow writes bufs with one non-blocking writev and returns what was not written.
func (c *Conn) writevNow(bufs [][]byte) (rest [][]byte, err error) {
	var n int
	if rerr := c.pw.raw.Write(func(fd uintptr) bool {
		n, err = unix.Writev(int(fd), bufs)
		return true // never wait in the pool
	}); rerr != nil {
		return nil, rerr
	}
	if err == unix.EAGAIN {
		return bufs, nil
	}
	if err != nil {
		return nil, err
	}
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs, nil
}

// drainSlow writes, waiting as long as writeWait for the socket, until the queue is empty.
func (c *Conn) drainSlow() {
	pw := c.pw
	for {
		c.wmu.Lock()
		batch := pw.queue
		pw.queue = nil
		if len(batch) == 0 || c.wclosed {
			pw.state = writeIdle
			c.wmu.Unlock()
			return
		}
		c.wmu.Unlock()
		c.NC.SetWriteDeadline(time.Now().Add(writeWait))
		bufs := net.Buffers(batch)
		if _, err := bufs.WriteTo(c.NC); err != nil {
			c.Close()
			return
		}
	}
}
