package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/chat"
	"switchboard/chat/web"
)

func TestFormsWithoutAValidCSRFTokenAreRefused(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	b.get("/") // receive the CSRF cookie
	other := newBrowser(t, m)
	otherToken := other.csrf("/")

	cases := map[string]url.Values{
		"missing token":                 {},
		"empty token":                   {"csrf_token": {""}},
		"made-up token":                 {"csrf_token": {"not-a-real-token"}},
		"another browser's valid token": {"csrf_token": {otherToken}},
	}
	for name, form := range cases {
		t.Run(name, func(t *testing.T) {
			form.Set("username", "victim_"+strings.ReplaceAll(name, " ", "")[:6])
			form.Set("password", "password123")
			for _, action := range []string{"/register", "/login"} {
				r := b.post(action, form)
				wantStatus(t, r, http.StatusForbidden)
				wantBody(t, r, "nothing was done", "reload the page")
			}
			if _, err := m.Users.FindUserByUsername(context.Background(), form.Get("username")); chat.ErrorCode(err) != chat.ENOTFOUND {
				t.Errorf("user stored despite the refused token: %v", err)
			}
			if b.cookie(web.SessionCookie) != nil {
				t.Error("logged in despite the refused token")
			}
		})
	}
}

func TestCSRFCookieWithoutTokenIsNotEnough(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	b.get("/")
	csrfCookie := b.cookie(web.CSRFCookie)
	if csrfCookie == nil || !strings.Contains(b.get("/").Header.Get("Cache-Control"), "no-store") {
		t.Fatal("home page should set the CSRF cookie and not be cached")
	}
	// Submitting the cookie's own value as the token does not work either:
	// the token is an HMAC of it under the server's key.
	r := b.post("/register", url.Values{"csrf_token": {csrfCookie.Value}, "username": {"mallory"}, "password": {"password123"}})
	wantStatus(t, r, http.StatusForbidden)
}

func TestLogoutNeedsTheTokenOfTheCurrentLogin(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	anonymousToken := b.csrf("/")
	wantRedirect(t, b.register("frank", "password123"), "/chat")

	wantStatus(t, b.post("/logout", url.Values{}), http.StatusForbidden)
	// A token from before login is bound to the old (absent) session.
	wantStatus(t, b.post("/logout", url.Values{"csrf_token": {anonymousToken}}), http.StatusForbidden)
	wantStatus(t, b.get("/chat"), http.StatusOK) // still logged in

	wantRedirect(t, b.submit("/profile", "/logout", nil), "/?logged_out")
	wantRedirect(t, b.get("/chat"), "/")
}

func TestCrossSiteBrowserPostsAreRefused(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	token := b.csrf("/")
	form := url.Values{"csrf_token": {token}, "username": {"grace"}, "password": {"password123"}}

	b.headers.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, b.post("/register", form), http.StatusForbidden)
	b.headers.Del("Sec-Fetch-Site")
	b.headers.Set("Origin", "https://evil.example")
	wantStatus(t, b.post("/register", form), http.StatusForbidden)
	if _, err := m.Users.FindUserByUsername(context.Background(), "grace"); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("user stored by a cross-site post: %v", err)
	}

	b.headers.Set("Origin", b.base) // same origin: fine
	b.headers.Set("Sec-Fetch-Site", "same-origin")
	wantRedirect(t, b.post("/register", form), "/chat")
}

func TestOversizedFormIsRefused(t *testing.T) {
	m := MustRunMain(t)
	b := newBrowser(t, m)
	form := url.Values{"csrf_token": {b.csrf("/")}, "username": {"big"}, "password": {strings.Repeat("x", 100<<10)}}
	r := b.post("/register", form)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	wantBody(t, r, "larger than 64 KB")
	if _, err := m.Users.FindUserByUsername(context.Background(), "big"); chat.ErrorCode(err) != chat.ENOTFOUND {
		t.Errorf("user stored from an oversized form: %v", err)
	}
}
