package engineio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"switchboard/engineio/parser"
)

var errStop = errors.New("stop")

// upgradeCheck is how long a poll arriving during an upgrade waits for it.
const upgradeCheck = 100 * time.Millisecond

// servePoll answers a long-polling GET: at once if packets are queued,
// otherwise when some are (or the session closes, or an upgrade needs the
// poll ended).
func (s *Session) servePoll(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.polling {
		s.mu.Unlock()
		s.closeWith(ReasonTransportError, errors.New("engineio: overlapping poll requests"), false)
		writeRequestError(w, ErrBadRequest)
		return
	}
	if s.state != stateOpen && !s.draining {
		s.mu.Unlock()
		writeRequestError(w, ErrUnknownSID)
		return
	}
	if s.timedOutLocked(w) {
		return
	}
	// A poll that arrives while an upgrade is being completed (after the
	// probe) may race the client's "upgrade" packet on the WebSocket. As in
	// Node (which ends such polls with a noop every 100 ms), it waits up to
	// upgradeCheck: if the upgrade completes it is refused, otherwise it ends
	// with a noop. The probe counts as sent when its bytes already wait in
	// the WebSocket unread (the client wrote them before this request; Node,
	// on one thread, would have read them first), or when the WebSocket's
	// handshake is still being answered. Unread is a non-blocking ioctl, no
	// data moves.
	lateInUpgrade := s.probed || s.probing > 0 || (s.probe != nil && s.probe.Unread())
	var grace <-chan time.Time
	if lateInUpgrade {
		t := time.NewTimer(upgradeCheck)
		defer t.Stop()
		grace = t.C
	}
	for s.state == stateOpen && s.ws == nil {
		if lateInUpgrade {
			if !s.probed && s.probe == nil && s.probing == 0 { // the upgrade was abandoned: poll normally
				lateInUpgrade = false
				continue
			}
		} else if len(s.queue) > 0 || s.probed {
			break
		}
		s.polling = true
		s.mu.Unlock()
		select {
		case <-grace:
			s.mu.Lock()
			s.polling = false
			lateInUpgrade = false
			if s.probed && s.ws == nil {
				goto respond
			}
		case <-s.pollWake:
			s.mu.Lock()
			s.polling = false
		case <-r.Context().Done():
			s.mu.Lock()
			s.polling = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, errors.New("engineio: poll request closed prematurely"), false)
			return
		}
	}
	if lateInUpgrade && s.state == stateOpen {
		s.mu.Unlock()
		writeRequestError(w, ErrBadRequest) // upgraded meanwhile: polling is over
		return
	}
respond:
	packets := s.queue
	// Compressed if a packet asked for it, or when there is none: the
	// control packet that ends the poll is the engine's own (and small).
	compress := s.compress || len(packets) == 0
	s.queue, s.queued, s.compress = nil, 0, false
	var last *Packet
	done := false
	switch {
	case s.state != stateOpen && len(packets) > 0:
		// Closing with packets still queued: send them now and the close
		// packet in the next poll, as Node does. The official client handles
		// a payload's messages a tick late but its close packet at once, so
		// in one response the close would overtake them.
	case s.state != stateOpen:
		last, done = s.final, true
		s.draining = false
	case len(packets) == 0:
		last = s.srv.ctl.noop // probed or upgraded: end this poll
	}
	s.mu.Unlock()

	buf := getBuffer()
	body := buf.b[:0]
	for i, p := range packets {
		if i > 0 {
			body = append(body, parser.Separator)
		}
		body = p.appendPolling(body)
	}
	clear(packets)
	if last != nil {
		if len(body) > 0 {
			body = append(body, parser.Separator)
		}
		body = last.appendPolling(body)
	}
	s.srv.addHeaders(w.Header(), r, false)
	s.srv.writePayload(w, r, body, compress)
	buf.b = body
	putBuffer(buf)
	if done {
		s.srv.sessions.remove(s)
	}
}

// writePayload answers a poll (or the handshake) with a polling payload,
// compressed when compress is set, it is large enough and the client
// accepts it (Options.HTTPCompression).
func (srv *Server) writePayload(w http.ResponseWriter, r *http.Request, body []byte, compress bool) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	if !srv.cfg.HTTPCompression.Disabled {
		h.Add("Vary", "Accept-Encoding")
	}
	if enc := srv.cfg.pollEncoding(r, len(body)); enc != "" && compress {
		zbuf := getBuffer()
		out := bytes.NewBuffer(zbuf.b[:0])
		if err := pollCompressors.compress(out, body, enc, srv.cfg.HTTPCompression.Level); err == nil {
			h.Set("Content-Encoding", enc)
			h.Set("Content-Length", strconv.Itoa(out.Len()))
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(out.Bytes())
			zbuf.b = out.Bytes()
			putBuffer(zbuf)
			return
		}
		putBuffer(zbuf) // cannot happen (writing to memory); send it plain
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// servePost receives a long-polling POST: the body's packets, in order.
func (s *Session) servePost(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Content-Type") == "application/octet-stream" {
		s.closeWith(ReasonTransportError, errors.New("engineio: binary polling body under EIO 4"), false)
		writeRequestError(w, ErrBadRequest)
		return
	}
	s.mu.Lock()
	if s.posting {
		s.mu.Unlock()
		s.closeWith(ReasonTransportError, errors.New("engineio: overlapping POST requests"), false)
		writeRequestError(w, ErrBadRequest)
		return
	}
	if s.state != stateOpen {
		draining := s.draining
		s.mu.Unlock()
		if draining {
			// Closed by the server, waiting for the client's next poll to
			// hand it the close packet: a POST the client sent meanwhile is
			// answered as Node does, its packets ignored. An error would
			// end the client with a transport error before that poll.
			s.srv.writeOK(w, r)
			return
		}
		writeRequestError(w, ErrUnknownSID)
		return
	}
	if s.timedOutLocked(w) {
		return
	}
	s.posting = true
	s.postRC = http.NewResponseController(w)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.posting = false
		s.postRC = nil
		s.mu.Unlock()
	}()

	limit := s.srv.cfg.MaxHTTPBufferSize
	if r.ContentLength > limit {
		s.closeWith(ReasonTransportError, errors.New("engineio: polling body over maxHttpBufferSize"), false)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	buf := getBuffer()
	defer putBuffer(buf)
	bb := bytes.NewBuffer(buf.b[:0])
	_, err := bb.ReadFrom(io.LimitReader(r.Body, limit+1))
	buf.b = bb.Bytes()
	if err != nil {
		s.closeWith(ReasonTransportError, err, false)
		writeRequestError(w, ErrBadRequest)
		return
	}
	if int64(len(buf.b)) > limit {
		s.closeWith(ReasonTransportError, errors.New("engineio: polling body over maxHttpBufferSize"), false)
		w.WriteHeader(http.StatusRequestEntityTooLarge)
		return
	}
	done := r.Context().Done()
	err = parser.DecodePayload(buf.b, func(p parser.Packet) error {
		s.onPacket(p)
		// Backpressure within the body too: a body of tiny packets holds
		// thousands, which a paused Handler must not get all at once.
		s.waitResumed(done)
		if s.isClosed() {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		s.closeWith(ReasonParseError, err, false)
		writeRequestError(w, ErrBadRequest)
		return
	}
	// Backpressure: the client sends its next POST after this answer.
	s.waitResumed(done)
	s.srv.writeOK(w, r)
}

// addHeaders lets Options.OnHeaders add to an answer's headers.
func (srv *Server) addHeaders(h http.Header, r *http.Request, initial bool) {
	if srv.cfg.OnHeaders != nil {
		srv.cfg.OnHeaders(h, r, initial)
	}
}

// wsHeaders are the headers Options.OnHeaders adds to a WebSocket
// handshake's answer (nil without it).
func (srv *Server) wsHeaders(r *http.Request, initial bool) http.Header {
	if srv.cfg.OnHeaders == nil {
		return nil
	}
	h := make(http.Header)
	srv.cfg.OnHeaders(h, r, initial)
	return h
}

// writeOK answers a POST the way Node does.
func (srv *Server) writeOK(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	srv.addHeaders(h, r, false)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("ok"))
}

// timedOutLocked closes a session whose pong deadline passed (even if the
// timer has not fired yet) and answers the request as for a closed session.
// Called with s.mu held; it unlocks it when it returns true.
func (s *Session) timedOutLocked(w http.ResponseWriter) bool {
	if !s.pingOverdue() {
		return false
	}
	s.mu.Unlock()
	s.closeWith(ReasonPingTimeout, nil, false)
	writeRequestError(w, ErrUnknownSID)
	return true
}

func (s *Session) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state != stateOpen
}

// Buffers for polling bodies; large ones are not kept.
type buffer struct{ b []byte }

var bufferPool = sync.Pool{New: func() any { return &buffer{b: make([]byte, 0, 4096)} }}

func getBuffer() *buffer { return bufferPool.Get().(*buffer) }

func putBuffer(b *buffer) {
	if cap(b.b) <= 64<<10 {
		b.b = b.b[:0]
		bufferPool.Put(b)
	}
}
