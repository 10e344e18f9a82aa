package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"switchboard/chat"
)

// handleRegister creates an account from the home page's form, logs it in
// and opens the chat. Invalid input re-renders the form with the reason.
func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	fail := func(err error) {
		if chat.ErrorCode(err) == chat.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, ErrorStatus(err), "home", &page{RegisterError: chat.ErrorMessage(err), RegisterUsername: username})
	}
	if err := chat.ValidateUsername(username); err != nil {
		fail(err)
		return
	}
	if err := chat.ValidatePassword(password); err != nil {
		fail(err)
		return
	}
	// Check first so that a taken name costs no bcrypt work; CreateUser
	// still catches a race.
	if _, err := s.users.FindUserByUsername(r.Context(), username); err == nil {
		fail(usernameTaken(username))
		return
	} else if chat.ErrorCode(err) != chat.ENOTFOUND {
		fail(err)
		return
	}
	// Each registration that gets this far costs a bcrypt hash and may
	// create an account: counted per client IP.
	if ok, wait := s.regLimiter.Allow("ip:" + s.clientIP(r)); !ok {
		s.logger().Warn("registration rate limited", "ip", s.clientIP(r))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		fail(chat.Errorf(chat.ERATELIMIT, "Too many new accounts from your network. Wait %s and try again.", humanSeconds(wait)))
		return
	}
	hash, err := s.hashPassword(r.Context(), password)
	if err != nil {
		fail(err)
		return
	}
	u := &chat.User{Username: username, PasswordHash: hash}
	if err := s.users.CreateUser(r.Context(), u); chat.ErrorCode(err) == chat.ECONFLICT {
		fail(usernameTaken(username))
		return
	} else if err != nil {
		fail(err)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	s.logger().Info("user registered", "user", u.Username, "id", u.ID)
	http.Redirect(w, r, "/chat", http.StatusSeeOther)
}

func usernameTaken(username string) error {
	return chat.Errorf(chat.ECONFLICT, "The username %q is already taken (usernames ignore upper/lower case). Please choose another.", username)
}

var errBadCredentials = chat.Errorf(chat.EUNAUTHORIZED, "Wrong username or password.")

// handleLogin logs a user in with username and password. Failed attempts
// are counted per client IP and per username; past LoginFailuresPerMinute
// the answer is 429 until the bucket refills, whatever the password.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	fail := func(err error) {
		if chat.ErrorCode(err) == chat.EINTERNAL {
			s.renderError(w, r, err)
			return
		}
		s.render(w, r, ErrorStatus(err), "home", &page{LoginError: chat.ErrorMessage(err), LoginUsername: username})
	}
	if username == "" || password == "" {
		fail(chat.Errorf(chat.EINVALID, "Enter your username and password."))
		return
	}

	ipKey := "ip:" + s.clientIP(r)
	userKey := "user:" + strings.ToLower(username)
	// The attempt is charged before it is tried, so that concurrent
	// attempts cannot all pass the check, and refunded unless it fails.
	if wait, limited := s.chargeLogin(ipKey, userKey); limited {
		s.logger().Warn("login rate limited", "ip", ipKey, "user", s.loggableUsername(r.Context(), username))
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		fail(chat.Errorf(chat.ERATELIMIT, "Too many failed login attempts. Wait %s and try again.", humanSeconds(wait)))
		return
	}

	u, err := s.checkPassword(r.Context(), username, password)
	if chat.ErrorCode(err) == chat.EUNAUTHORIZED {
		fail(err)
		return
	} else if err != nil {
		s.loginLimiter.Refund(ipKey)
		s.loginLimiter.Refund(userKey)
		fail(err)
		return
	}
	s.loginLimiter.Refund(ipKey)
	s.loginLimiter.Reset(userKey)
	if err := s.startSession(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/chat", http.StatusSeeOther)
}

// loggableUsername is how a username typed at login appears in the log:
// itself when it names an account (the one under attack), else a
// placeholder — people type their password into the username field, and
// the log must not keep it.
func (s *Server) loggableUsername(ctx context.Context, username string) string {
	if u, err := s.users.FindUserByUsername(ctx, username); err == nil && u != nil {
		return u.Username
	}
	return "(no such account)"
}

// chargeLogin takes a token from each key's bucket for a login attempt.
// If either has none left, it takes nothing and reports the longer wait.
func (s *Server) chargeLogin(keys ...string) (wait time.Duration, limited bool) {
	taken := make([]string, 0, len(keys))
	for _, k := range keys {
		if ok, d := s.loginLimiter.Allow(k); ok {
			taken = append(taken, k)
		} else {
			limited = true
			wait = max(wait, d)
		}
	}
	if limited {
		for _, k := range taken {
			s.loginLimiter.Refund(k)
		}
	}
	return wait, limited
}

func humanSeconds(d time.Duration) string {
	n := int(math.Ceil(d.Seconds()))
	switch {
	case n == 1:
		return "1 second"
	case n < 60:
		return strconv.Itoa(n) + " seconds"
	case n == 60:
		return "1 minute"
	}
	return strconv.Itoa((n+59)/60) + " minutes"
}

// checkPassword returns the user if the password is right, errBadCredentials
// if not. Unknown users and GitHub-only accounts cost a bcrypt comparison
// too, so timing does not tell which usernames exist.
func (s *Server) checkPassword(ctx context.Context, username, password string) (*chat.User, error) {
	var hash []byte
	u, err := s.users.FindUserByUsername(ctx, username)
	switch {
	case chat.ErrorCode(err) == chat.ENOTFOUND || (err == nil && u.PasswordHash == nil):
		hash, u = s.dummyHash(), nil
	case err != nil:
		return nil, err
	default:
		hash = u.PasswordHash
	}
	// bcrypt reads only the first PasswordMaxBytes bytes, so a longer
	// password (which registration refuses) would match any password
	// sharing its first 72 bytes: it is wrong, at the usual cost.
	if len(password) > chat.PasswordMaxBytes {
		hash, u = s.dummyHash(), nil
	}
	if err := s.withBcryptSlot(ctx, func() error {
		return bcrypt.CompareHashAndPassword(hash, []byte(password))
	}); err != nil || u == nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, errBadCredentials
	}
	return u, nil
}

// hashPassword returns the bcrypt hash of password at the configured cost.
func (s *Server) hashPassword(ctx context.Context, password string) ([]byte, error) {
	var hash []byte
	err := s.withBcryptSlot(ctx, func() (err error) {
		hash, err = bcrypt.GenerateFromPassword([]byte(password), s.cfg.BcryptCost)
		return err
	})
	return hash, err
}

// withBcryptSlot runs f while holding one of GOMAXPROCS slots, so a burst of
// logins queues instead of starving every other request of CPU.
func (s *Server) withBcryptSlot(ctx context.Context, f func() error) error {
	select {
	case s.bcryptSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.bcryptSlots }()
	return f()
}

// onceDummyHash returns a function giving a bcrypt hash of a random
// password at the given cost, computed on first use.
func onceDummyHash(cost int) func() []byte {
	return sync.OnceValue(func() []byte {
		h, err := bcrypt.GenerateFromPassword([]byte(newToken()[:32]), cost)
		if err != nil {
			panic(err) // only for an invalid cost, which NewServer's callers control
		}
		return h
	})
}

// handleLogoutConfirm shows a confirmation form (logging out is a POST);
// visitors are sent home.
func (s *Server) handleLogoutConfirm(w http.ResponseWriter, r *http.Request) {
	u, err := s.Authenticate(r)
	if err != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "logout", &page{User: u})
}

// handleLogout ends the session and sends the browser home.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.endSession(w, r); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/?logged_out", http.StatusSeeOther)
}
