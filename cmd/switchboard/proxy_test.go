package main

import (
	"fmt"
	"net/http"
	"testing"

	"switchboard/chat/web"
)

// Behind no proxy (the default), X-Forwarded-For is whatever the client
// wrote: changing it on every attempt must not escape the per-IP login
// limit.
func TestForwardedForIsIgnoredUnlessTrustProxy(t *testing.T) {
	m := MustRunMain(t)
	for i := range 5 {
		b := newBrowser(t, m)
		b.headers.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		wantStatus(t, b.login(fmt.Sprintf("user%d", i), "guess"), http.StatusUnauthorized)
	}
	b := newBrowser(t, m)
	b.headers.Set("X-Forwarded-For", "198.51.100.7")
	wantStatus(t, b.login("someone-else", "guess"), http.StatusTooManyRequests)
}

// With --trust-proxy only the entry our proxy appends (the last) counts: a
// client that sends its own X-Forwarded-For cannot pick its address.
func TestTrustProxyTakesTheProxysEntryNotTheClients(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.TrustProxy = 1 })
	for i := range 5 {
		b := newBrowser(t, m)
		b.headers.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d, 192.0.2.1", i+1))
		wantStatus(t, b.login(fmt.Sprintf("user%d", i), "guess"), http.StatusUnauthorized)
	}
	b := newBrowser(t, m)
	b.headers.Set("X-Forwarded-For", "198.51.100.7, 192.0.2.1")
	wantStatus(t, b.login("someone-else", "guess"), http.StatusTooManyRequests)
	b = newBrowser(t, m)
	b.headers.Set("X-Forwarded-For", "192.0.2.2") // another client of the proxy
	wantStatus(t, b.login("someone-else", "guess"), http.StatusUnauthorized)
}

// Behind two proxies (a CDN, then a load balancer: --trust-proxy=2) the
// client is the address the CDN saw, the second entry from the end: the
// load balancer's own entry (the CDN's address, shared by many clients) and
// whatever the client wrote before are not.
func TestTrustProxyCountsProxiesFromTheEnd(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.Config.TrustProxy = 2 })
	for i := range 5 {
		b := newBrowser(t, m)
		// The client's claim, the client's address as the CDN saw it, the
		// address of one of the CDN's edges as the load balancer saw it.
		b.headers.Set("X-Forwarded-For", fmt.Sprintf("10.0.0.%d, 203.0.113.9", i+1))
		b.headers.Add("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1))
		wantStatus(t, b.login(fmt.Sprintf("user%d", i), "guess"), http.StatusUnauthorized)
	}
	b := newBrowser(t, m)
	b.headers.Set("X-Forwarded-For", "203.0.113.9, 192.0.2.77")
	wantStatus(t, b.login("someone-else", "guess"), http.StatusTooManyRequests)
	b = newBrowser(t, m)
	b.headers.Set("X-Forwarded-For", "203.0.113.10, 192.0.2.1") // another client through the same edge
	wantStatus(t, b.login("someone-else", "guess"), http.StatusUnauthorized)
}

// X-Forwarded-Proto is not trusted: a client cannot switch the Secure flag
// off with "http" behind --behind-tls, nor does "https" make it Secure
// without it (the operator says where TLS ends, with --behind-tls).
func TestForwardedProtoDoesNotDecideSecureCookies(t *testing.T) {
	for _, behindTLS := range []bool{false, true} {
		m := MustRunMain(t, func(m *Main) {
			m.Config.BehindTLS = behindTLS
			m.Config.TrustProxy = 1
		})
		for _, proto := range []string{"http", "https"} {
			b := newBrowser(t, m)
			b.headers.Set("X-Forwarded-Proto", proto)
			r := b.register("user"+proto, "a fine password")
			wantRedirect(t, r, "/chat")
			for _, c := range r.Cookies() {
				if c.Name == web.SessionCookie && c.Secure != behindTLS {
					t.Errorf("--behind-tls=%v, X-Forwarded-Proto: %s: Secure = %v", behindTLS, proto, c.Secure)
				}
			}
		}
	}
}
