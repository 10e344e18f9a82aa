package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"time"

	"switchboard/chat"
	assets "switchboard/web"
)

// page is the data every template receives.
type page struct {
	User   *chat.User // nil when logged out
	CSRF   string     // token for the page's forms
	GitHub bool       // "Log in with GitHub" is available
	Notice string     // a neutral message at the top of the page

	// Home page forms: errors and the username to put back in the field.
	LoginError, RegisterError       string
	LoginUsername, RegisterUsername string

	// Chat page.
	Online int

	// Error page.
	Status           int
	Heading, Message string
}

var pageNames = []string{"home", "profile", "chat", "logout", "error"}

var templateFuncs = template.FuncMap{
	"date":     func(t time.Time) string { return t.UTC().Format("2 January 2006") },
	"datetime": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
}

// parsePages parses each page together with the layout.
func parsePages() (map[string]*template.Template, error) {
	pages := make(map[string]*template.Template, len(pageNames))
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(templateFuncs).ParseFS(assets.Templates(), "layout.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: parse %s page: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes the named page with the given status. The page is rendered
// into a buffer first, so a template error becomes a clean 500.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p *page) {
	p.GitHub = s.oauth != nil
	if p.CSRF == "" {
		p.CSRF = s.csrfToken(w, r)
	}
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.logger().Error("render page", "page", name, "err", err)
		http.Error(w, "Internal error.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store") // pages carry CSRF tokens and account data
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorStatus maps application error codes to HTTP statuses; the one table
// of the package.
var errorStatus = map[string]int{
	chat.ECONFLICT:     http.StatusConflict,
	chat.EFORBIDDEN:    http.StatusForbidden,
	chat.EINTERNAL:     http.StatusInternalServerError,
	chat.EINVALID:      http.StatusBadRequest,
	chat.ENOTFOUND:     http.StatusNotFound,
	chat.ERATELIMIT:    http.StatusTooManyRequests,
	chat.EUNAUTHORIZED: http.StatusUnauthorized,
}

// ErrorStatus returns the HTTP status for err's application error code.
func ErrorStatus(err error) int {
	if st, ok := errorStatus[chat.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

var errorHeadings = map[int]string{
	http.StatusBadRequest:          "That did not work",
	http.StatusUnauthorized:        "Please log in",
	http.StatusForbidden:           "Request refused",
	http.StatusNotFound:            "Page not found",
	http.StatusConflict:            "Already taken",
	http.StatusTooManyRequests:     "Slow down",
	http.StatusInternalServerError: "Something went wrong",
}

// renderError shows err on the error page with its status. Internal errors
// are logged and shown only as a generic message.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	if chat.ErrorCode(err) == chat.EINTERNAL {
		s.logger().Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	heading := errorHeadings[status]
	if heading == "" {
		heading = http.StatusText(status)
	}
	s.render(w, r, status, "error", &page{
		User:    s.userOrNil(r),
		Status:  status,
		Heading: heading,
		Message: chat.ErrorMessage(err),
	})
}

// userOrNil returns the logged-in user, or nil for visitors and on errors.
func (s *Server) userOrNil(r *http.Request) *chat.User {
	u, err := s.Authenticate(r)
	if err != nil {
		return nil
	}
	return u
}

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	p := &page{User: s.userOrNil(r)}
	if r.URL.Query().Has("logged_out") && p.User == nil {
		p.Notice = "You have been logged out. See you soon!"
	}
	s.render(w, r, http.StatusOK, "home", p)
}

func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	p := &page{User: u}
	if r.URL.Query().Has("linked") {
		p.Notice = "Your GitHub account is now linked."
	}
	s.render(w, r, http.StatusOK, "profile", p)
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	u, ok := s.requireUser(w, r)
	if !ok {
		return
	}
	p := &page{User: u}
	if s.OnlineCount != nil {
		p.Online = s.OnlineCount()
	}
	s.render(w, r, http.StatusOK, "chat", p)
}

// requireUser returns the logged-in user, or redirects visitors to the home
// page (where they can log in) and returns false.
func (s *Server) requireUser(w http.ResponseWriter, r *http.Request) (*chat.User, bool) {
	u, err := s.Authenticate(r)
	switch chat.ErrorCode(err) {
	case "":
		return u, true
	case chat.EUNAUTHORIZED:
		http.Redirect(w, r, "/", http.StatusSeeOther)
	default:
		s.renderError(w, r, err)
	}
	return nil, false
}

func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	s.renderError(w, r, chat.Errorf(chat.ENOTFOUND, "There is nothing at %s. Check the address, or start again from the home page.", r.URL.Path))
}

// staticFile is one embedded file, with its ETag computed once.
type staticFile struct {
	data []byte
	etag string
}

func loadStatic(fsys fs.FS) (map[string]staticFile, error) {
	files := make(map[string]staticFile)
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		files[name] = staticFile{data: data, etag: strconv.Quote(hex.EncodeToString(sum[:8]))}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load static files: %w", err)
	}
	return files, nil
}

// handleStatic serves /public/{file}. Browsers revalidate with the ETag on
// every use, so a new deployment is picked up at once.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	name := path.Clean(r.PathValue("file"))
	f, ok := s.static[name]
	if !ok {
		s.handleNotFound(w, r)
		return
	}
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.data))
}
