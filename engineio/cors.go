package engineio

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }

func (c *CORS) allowed(origin string) bool {
	if c.AllowOrigin != nil {
		return c.AllowOrigin(origin)
	}
	return slices.Contains(c.Origins, "*") || slices.Contains(c.Origins, origin)
}

// apply sets the CORS response headers for r. It answers a preflight itself
// (204) and then returns true.
func (c *CORS) apply(w http.ResponseWriter, r *http.Request) bool {
	origin := r.Header.Get("Origin")
	h := w.Header()
	if origin != "" && c.allowed(origin) {
		if slices.Contains(c.Origins, "*") && !c.Credentials && c.AllowOrigin == nil {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Add("Vary", "Origin")
		}
		if c.Credentials {
			h.Set("Access-Control-Allow-Credentials", "true")
		}
	}
	if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
	if len(c.Headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(c.Headers, ","))
	} else if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
		h.Set("Access-Control-Allow-Headers", req)
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if c.MaxAge > 0 {
		h.Set("Access-Control-Max-Age", strconv.Itoa(int(c.MaxAge.Seconds())))
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(http.StatusNoContent)
	return true
}
