package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// originPolicy is the set of origins allowed besides the server's own.
type originPolicy struct {
	any   bool     // "*" was configured
	exact []string // normalised "scheme://host[:port]"
}

func newOriginPolicy(list []string) (originPolicy, error) {
	var p originPolicy
	for _, o := range list {
		o = strings.TrimSpace(o)
		switch o {
		case "":
			continue
		case "*":
			p.any = true
			continue
		}
		n, err := NormalizeOrigin(o)
		if err != nil {
			return p, fmt.Errorf("web: allowed origin %q: %w", o, err)
		}
		p.exact = append(p.exact, n)
	}
	return p, nil
}

// NormalizeOrigin checks that o is an origin, "http(s)://host[:port]", as
// Config.AllowedOrigins wants, and returns it lower-cased.
func NormalizeOrigin(o string) (string, error) {
	u, err := url.Parse(o)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
		u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("want scheme://host[:port]")
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// CheckOrigin reports whether a browser page at the request's Origin may
// use the server: the realtime endpoint calls it on every handshake and
// refuses the request when it returns false.
//
// Allowed are requests without an Origin header (same-origin polling GETs
// and non-browser clients, which authenticate with the session cookie
// anyway), the server's own origin (the Origin's host equals the request's
// Host), and the configured AllowedOrigins. It is safe for concurrent use.
func (s *Server) CheckOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if s.origins.any {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes the opaque origin "null"
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	n, err := NormalizeOrigin(origin)
	return err == nil && slices.Contains(s.origins.exact, n)
}

// AllowedOrigins returns the extra origins configured (normalised), "*" if
// any origin is allowed. The server's own origin is always allowed besides
// these; see CheckOrigin.
func (s *Server) AllowedOrigins() []string {
	out := slices.Clone(s.origins.exact)
	if s.origins.any {
		out = append(out, "*")
	}
	return out
}
