package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"

	"switchboard/chat"
)

// CSRF protection for every POST form, in two layers:
//
//  1. Signed double-submit token. Each browser gets a random secret in the
//     HttpOnly CSRF cookie. Forms carry csrf_token = HMAC(server key,
//     secret ‖ session token), so a token is bound to this browser and to
//     its current login, and cannot be forged without the server's key even
//     by someone able to plant cookies. Logging in or out changes the
//     session token and so retires old tokens.
//  2. net/http.CrossOriginProtection, which refuses cross-site browser
//     POSTs by Sec-Fetch-Site / Origin before the token is even looked at.
//
// Refusals are 403 with a page that says what to do.

// CSRFField is the name of the form field (or X-CSRF-Token header) carrying
// the token.
const CSRFField = "csrf_token"

// maxFormBytes caps the size of a form body.
const maxFormBytes = 64 << 10

// csrfSecret returns the browser's CSRF secret, creating it (and setting
// the cookie) if the request has none. Call it once per response.
func (s *Server) csrfSecret(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(CSRFCookie); err == nil && len(c.Value) == tokenLen {
		return c.Value
	}
	secret := newToken()
	http.SetCookie(w, s.cookie(r, CSRFCookie, secret, 0))
	return secret
}

// csrfToken returns the token for the forms of the page being rendered.
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) string {
	return s.signCSRF(s.csrfSecret(w, r), sessionToken(r))
}

func (s *Server) signCSRF(secret, session string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("switchboard csrf\x00"))
	m.Write([]byte(secret))
	m.Write([]byte{0})
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// validCSRF reports whether r carries a token matching its cookies.
func (s *Server) validCSRF(r *http.Request) bool {
	c, err := r.Cookie(CSRFCookie)
	if err != nil || len(c.Value) != tokenLen {
		return false
	}
	got := r.PostForm.Get(CSRFField)
	if got == "" {
		got = r.Header.Get("X-CSRF-Token")
	}
	want := s.signCSRF(c.Value, sessionToken(r))
	return hmac.Equal([]byte(got), []byte(want))
}

var errCSRF = chat.Errorf(chat.EFORBIDDEN,
	"This form has expired or was not sent from this site, so nothing was done. Go back, reload the page and try again.")

// protect wraps a POST handler: it checks the request's origin, limits and
// parses the form, then checks the CSRF token, answering 403 when a check
// fails.
func (s *Server) protect(next http.Handler) http.Handler {
	return s.crossOrigin.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			s.formUnreadable(w, r, err)
			return
		}
		if !s.validCSRF(r) {
			s.logger().Warn("CSRF token refused", "path", r.URL.Path, "ip", s.clientIP(r))
			s.renderError(w, r, errCSRF)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// formUnreadable answers a form body that could not be read: 408 when it
// did not arrive in time, 413 when it is too large, 400 otherwise. The
// connection is closed after the answer (the rest of the body is unread).
func (s *Server) formUnreadable(w http.ResponseWriter, r *http.Request, err error) {
	status, heading, msg := http.StatusBadRequest, "The form could not be read",
		"The form could not be read. Please go back and send it again."
	var tooLarge *http.MaxBytesError
	var netErr net.Error
	switch {
	case errors.As(err, &tooLarge):
		status, heading = http.StatusRequestEntityTooLarge, "Form too large"
		msg = fmt.Sprintf("The form is larger than %d KB, so it was not read.", maxFormBytes>>10)
	case errors.As(err, &netErr) && netErr.Timeout():
		status, heading = http.StatusRequestTimeout, "The form took too long"
		msg = "The form took too long to arrive, so it was not read. Please go back and send it again."
	}
	s.logger().Debug("form not read", "path", r.URL.Path, "status", status, "err", err, "ip", s.clientIP(r))
	w.Header().Set("Connection", "close")
	s.render(w, r, status, "error", &page{User: s.userOrNil(r), Status: status, Heading: heading, Message: msg})
}

// denyCrossOrigin answers a cross-site browser POST.
func (s *Server) denyCrossOrigin(w http.ResponseWriter, r *http.Request) {
	s.logger().Warn("cross-origin form refused", "path", r.URL.Path, "origin", r.Header.Get("Origin"), "ip", s.clientIP(r))
	s.renderError(w, r, errCSRF)
}
