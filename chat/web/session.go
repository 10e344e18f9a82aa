package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net"
	"net/http"
	"strings"

	"switchboard/chat"
)

// Cookie names.
const (
	SessionCookie = "sb_session"     // the session's secret token
	CSRFCookie    = "sb_csrf"        // the per-browser CSRF secret
	stateCookie   = "sb_oauth_state" // GitHub login in progress: state and PKCE verifier
)

// tokenLen is the length of a session token's text: 32 random bytes in
// unpadded base64url.
var tokenLen = base64.RawURLEncoding.EncodedLen(32)

// newToken returns 32 random bytes as unpadded base64url.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionID is the key under which a session token is stored: its SHA-256.
// The database never sees the token itself.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// errNotLoggedIn is what Authenticate returns for requests without a live
// session.
var errNotLoggedIn = &chat.Error{Code: chat.EUNAUTHORIZED, Message: "You are not logged in."}

// Authenticate resolves the session cookie of r to the logged-in user.
//
// It returns an error with code chat.EUNAUTHORIZED (check with
// chat.ErrorCode) when r carries no session cookie or the session is
// unknown, expired or logged out; any other error is a storage failure
// (chat.EINTERNAL). The Socket.IO server calls it on the handshake request,
// as passport.socketio does, and refuses the connection on error. It is
// safe for concurrent use.
func (s *Server) Authenticate(r *http.Request) (*chat.User, error) {
	return s.authenticateToken(r.Context(), sessionToken(r))
}

func (s *Server) authenticateToken(ctx context.Context, token string) (*chat.User, error) {
	if len(token) != tokenLen {
		return nil, errNotLoggedIn
	}
	u, err := s.users.FindUserBySessionID(ctx, sessionID(token))
	if chat.ErrorCode(err) == chat.ENOTFOUND {
		return nil, errNotLoggedIn
	} else if err != nil {
		return nil, err
	}
	return u, nil
}

// SessionKey identifies the session of r's cookie without revealing its
// secret token (it is the token's hash, as stored); "" without a cookie.
// OnSessionEnd receives the same key.
func SessionKey(r *http.Request) string {
	if token := sessionToken(r); token != "" {
		return sessionID(token)
	}
	return ""
}

// sessionToken returns the session cookie's value, or "".
func sessionToken(r *http.Request) string {
	c, err := r.Cookie(SessionCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// startSession logs u in: it ends the request's previous session if any,
// stores a new one, counts the login and sets the cookie. A fresh session
// id at every login prevents session fixation.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *chat.User) error {
	ctx := r.Context()
	if old := sessionToken(r); old != "" {
		if err := s.sessions.DeleteSession(ctx, sessionID(old)); err != nil {
			return err
		}
		if s.OnSessionEnd != nil { // its sockets go with it, as on logout
			s.OnSessionEnd(sessionID(old))
		}
	}
	now := s.now()
	token := newToken()
	sess := &chat.Session{ID: sessionID(token), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := s.sessions.CreateSession(ctx, sess); err != nil {
		return err
	}
	if err := s.users.RecordLogin(ctx, u.ID, now); err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(r, SessionCookie, token, int(s.cfg.SessionTTL.Seconds())))
	return nil
}

// endSession logs the request's browser out: the session is deleted from
// the store and its cookie removed.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) error {
	if token := sessionToken(r); token != "" {
		if err := s.sessions.DeleteSession(r.Context(), sessionID(token)); err != nil {
			return err
		}
		if s.OnSessionEnd != nil {
			s.OnSessionEnd(sessionID(token))
		}
	}
	http.SetCookie(w, s.cookie(r, SessionCookie, "", -1))
	return nil
}

// cookie returns a cookie with the house flags: HttpOnly, SameSite=Lax,
// Path=/, Secure when the request came over TLS or the server is told it is
// behind TLS. maxAge 0 makes a browser-session cookie, negative deletes.
func (s *Server) cookie(r *http.Request, name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	}
}

// secure reports whether the browser talks to us over HTTPS.
func (s *Server) secure(r *http.Request) bool { return r.TLS != nil || s.cfg.BehindTLS }

// clientIP returns the address login limits are keyed by: the connection's
// peer or, behind TrustProxy proxies, the address the outermost of them saw
// (the TrustProxy-th X-Forwarded-For entry from the end: each proxy appends
// the address it was reached from; entries before those are whatever the
// client claimed). With fewer entries than proxies, the first entry.
func (s *Server) clientIP(r *http.Request) string {
	if n := s.cfg.TrustProxy; n > 0 {
		var entries []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for e := range strings.SplitSeq(v, ",") {
				entries = append(entries, strings.TrimSpace(e))
			}
		}
		if len(entries) > 0 {
			if ip := entries[max(len(entries)-n, 0)]; ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
