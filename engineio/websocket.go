package engineio

import (
	"errors"
	"io"
	"net/http"
	"time"

	"switchboard/engineio/internal/wsconn"
	"switchboard/engineio/parser"
)

// wsTransport connects a WebSocket to its session. While probe is set the
// connection is an upgrade candidate and only takes part in the upgrade.
type wsTransport struct {
	s     *Session
	probe bool
}

func (t *wsTransport) OnMessage(c *wsconn.Conn, data []byte, binary bool) {
	p, err := parser.DecodePacket(data, binary)
	if t.probe {
		switch {
		case err != nil:
			t.s.abortProbe(c)
		case p.Type == parser.Ping && string(p.Data) == "probe":
			t.s.onProbe(c)
		case p.Type == parser.Upgrade:
			t.probe = !t.s.onUpgrade(c)
		default:
			t.s.abortProbe(c)
		}
		return
	}
	if err != nil {
		t.s.closeWith(ReasonParseError, err, false)
		return
	}
	t.s.onPacket(p)
}

func (t *wsTransport) OnClose(c *wsconn.Conn, err error) {
	if t.probe {
		t.s.abortProbe(c)
		return
	}
	t.s.closeWith(wsCloseReason(err), err, false)
}

func wsCloseReason(err error) CloseReason {
	var ce *wsconn.CloseError
	if errors.As(err, &ce) || errors.Is(err, io.EOF) || errors.Is(err, wsconn.ErrClosedByUs) {
		return ReasonTransportClose
	}
	return ReasonTransportError
}

// discard handles a WebSocket refused after its handshake.
type discard struct{}

func (discard) OnMessage(*wsconn.Conn, []byte, bool) {}
func (discard) OnClose(*wsconn.Conn, error)          {}

// upgrade starts probing a WebSocket for a polling session. b64 (the
// request's b64 parameter) asks for binary messages as base64 text frames on
// it.
func (srv *Server) upgrade(s *Session, w http.ResponseWriter, r *http.Request, b64 bool) {
	// From the moment the client can read the handshake's answer until the
	// connection is the session's probe, a poll it sends counts as late in
	// the upgrade (see servePoll): Node attaches the probe before it reads
	// anything else.
	s.mu.Lock()
	s.probing++
	s.mu.Unlock()
	conn, err := srv.ws.Upgrade(w, r, srv.wsHeaders(r, false))
	s.mu.Lock()
	s.probing--
	s.wakePollLocked()
	if err != nil {
		s.mu.Unlock()
		srv.cfg.log.Debug("engineio: websocket upgrade failed", "sid", s.id, "err", err)
		return
	}
	if s.state != stateOpen || s.probe != nil || s.ws != nil || !srv.cfg.allowUpgrade {
		s.mu.Unlock()
		conn.Close(wsconn.CloseNormal, "")
		conn.Start(discard{})
		return
	}
	s.probe, s.probeB64 = conn, b64
	s.upgradeTimer = time.AfterFunc(srv.cfg.UpgradeTimeout, func() { s.abortProbe(conn) })
	s.mu.Unlock()
	conn.Start(&wsTransport{s: s, probe: true})
}

func (s *Session) onProbe(c *wsconn.Conn) {
	s.mu.Lock()
	if s.probe != c || s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.probed = true
	s.wakePollLocked()
	s.mu.Unlock()
	_ = c.Send(true, s.srv.ctl.pongProbe.wsFrame())
}

// onUpgrade switches the session to the probed WebSocket. Queued packets
// move to the WebSocket ahead of anything sent later.
func (s *Session) onUpgrade(c *wsconn.Conn) bool {
	s.mu.Lock()
	if s.probe != c || s.state != stateOpen {
		s.mu.Unlock()
		c.Close(wsconn.CloseNormal, "")
		return false
	}
	if s.upgradeTimer != nil {
		s.upgradeTimer.Stop()
	}
	s.transport = TransportWebSocket
	s.ws, s.probe, s.upgraded = c, nil, true
	s.wsB64.Store(s.probeB64)
	s.wsc.Store(c)
	if s.readPaused {
		c.PauseReading()
	}
	d := s.srv.cfg.PerMessageDeflate
	if !s.compress {
		d = nil // every queued packet was sent Uncompressed
	}
	frames := make([][]byte, 0, len(s.queue))
	for _, p := range s.queue {
		frames = append(frames, p.wsFrameFor(c, d, s.probeB64))
	}
	clear(s.queue)
	s.queue, s.queued, s.compress = nil, 0, false
	s.wakePollLocked()
	if len(frames) > 0 {
		_ = c.Send(false, frames...) // queues only: no I/O under the lock
	}
	s.mu.Unlock()
	return true
}

func (s *Session) abortProbe(c *wsconn.Conn) {
	s.mu.Lock()
	if s.ws == c {
		// The upgrade completed first: the upgrade timer fired but got the
		// lock after onUpgrade, too late to stop it. c is the transport now.
		s.mu.Unlock()
		return
	}
	if s.probe == c {
		s.probe, s.probed = nil, false
		if s.upgradeTimer != nil {
			s.upgradeTimer.Stop()
		}
		s.wakePollLocked()
	}
	s.mu.Unlock()
	c.Close(wsconn.CloseNormal, "")
}
