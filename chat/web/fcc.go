package web

import (
	"net/http"
	"net/url"
	"strings"
)

// The freeCodeCamp checker runs in the browser on freecodecamp.org (or a
// local copy on localhost) and reads /_api/server.js and
// /public/client.js from this server with cross-origin requests. In
// FCCTesting mode those paths answer CORS for exactly those origins, with
// credentials; other origins get no CORS headers, and under /_api/ a 403.

// placeholderSource is served at /_api/server.js until the realtime
// package provides its source.
const placeholderSource = "// Switchboard: the realtime (Socket.IO) handlers are not built into this server yet.\n"

// FCCOriginAllowed reports whether origin may read the freeCodeCamp testing
// endpoints: https on freecodecamp.org or freecodecamp.dev or any of their
// subdomains, and http or https on localhost with any port.
func FCCOriginAllowed(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return false
	}
	host := strings.ToLower(u.Hostname())
	switch u.Scheme {
	case "https":
		for _, site := range []string{"freecodecamp.org", "freecodecamp.dev"} {
			if host == site || strings.HasSuffix(host, "."+site) {
				return true
			}
		}
		return host == "localhost"
	case "http":
		return host == "localhost"
	}
	return false
}

func (s *Server) fccCORS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api := strings.HasPrefix(r.URL.Path, "/_api/")
		if !api && !strings.HasPrefix(r.URL.Path, "/public/") {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		switch {
		case origin != "" && FCCOriginAllowed(origin):
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
			if preflight {
				h.Set("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS")
				if req := r.Header.Get("Access-Control-Request-Headers"); validHeaderList(req) {
					h.Set("Access-Control-Allow-Headers", req)
				}
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		case origin != "" && (api || preflight):
			http.Error(w, "Origin not allowed.", http.StatusForbidden)
			return
		case preflight:
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// validHeaderList reports whether v looks like a list of header names.
func validHeaderList(v string) bool {
	if v == "" || len(v) > 512 {
		return false
	}
	for _, c := range v {
		if !(c == ',' || c == ' ' || c == '-' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// handleServerSource serves the source of the socket handlers, as text.
func (s *Server) handleServerSource(w http.ResponseWriter, r *http.Request) {
	src := s.cfg.ServerSource
	if len(src) == 0 {
		src = []byte(placeholderSource)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(src)
}

func (s *Server) handleAPINotFound(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "Not found.", http.StatusNotFound)
}
