//go:build !linux

package wsconn

import (
	"errors"
	"net"
)

var errWouldBlock = errors.New("wsconn: would block")

// loop is never created on this system: every connection uses goroutine mode.
type loop struct{}

func takeFD(net.Conn) (int, bool)                   { return -1, false }
func closeFD(int) error                             { return nil }
func newLoop(*Engine) (*loop, error)                { return nil, errors.New("wsconn: netpoll unsupported") }
func (l *loop) add(*Conn) error                     { return errors.New("wsconn: netpoll unsupported") }
func (l *loop) release(*Conn)                       {}
func (l *loop) shutdown(*Conn, bool)                {}
func (l *loop) writev(*Conn, [][]byte) (int, error) { return 0, errWouldBlock }
func (l *loop) stop()                               {}
func (l *loop) resume(*Conn)                        {}
func (l *loop) unread(*Conn) bool                   { return false }
