package web

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"switchboard/chat"
)

// GitHub's endpoints, used when GitHubConfig leaves them empty.
const (
	GitHubAuthURL  = "https://github.com/login/oauth/authorize"
	GitHubTokenURL = "https://github.com/login/oauth/access_token"
	GitHubAPIURL   = "https://api.github.com"
)

// GitHubCallbackPath is where GitHub sends the browser back: a configured
// GitHubConfig.RedirectURL must have this path.
const GitHubCallbackPath = "/auth/github/callback"

// gitHubTimeout bounds the whole exchange with GitHub in the callback.
const gitHubTimeout = 15 * time.Second

func newGitHubOAuth(g GitHubConfig) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     g.ClientID,
		ClientSecret: g.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   cmp(g.AuthURL, GitHubAuthURL),
			TokenURL:  cmp(g.TokenURL, GitHubTokenURL),
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: g.RedirectURL,
		// No scopes: the public profile (id, login, name) is all we read.
	}
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// oauthConfig returns the OAuth configuration for r, with the callback URL
// derived from the request when none is configured.
func (s *Server) oauthConfig(r *http.Request) *oauth2.Config {
	c := *s.oauth
	if c.RedirectURL == "" {
		scheme := "http"
		if s.secure(r) {
			scheme = "https"
		}
		c.RedirectURL = scheme + "://" + r.Host + GitHubCallbackPath
	}
	return &c
}

func (s *Server) httpClient() *http.Client {
	if s.HTTPClient != nil {
		return s.HTTPClient
	}
	return &http.Client{Timeout: 10 * time.Second}
}

var errGitHubOff = chat.Errorf(chat.ENOTFOUND, "Log in with GitHub is not enabled on this server.")

// handleGitHubLogin starts the OAuth flow: it remembers a random state and
// a PKCE verifier in a short-lived cookie and sends the browser to GitHub.
func (s *Server) handleGitHubLogin(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil {
		s.renderError(w, r, errGitHubOff)
		return
	}
	state, verifier := newToken(), oauth2.GenerateVerifier()
	c := s.cookie(r, stateCookie, state+"."+verifier, 600)
	c.Path = "/auth/github"
	http.SetCookie(w, c)
	url := s.oauthConfig(r).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))
	http.Redirect(w, r, url, http.StatusFound)
}

var errGitHubState = chat.Errorf(chat.EFORBIDDEN,
	"This GitHub login could not be verified: it expired or was not started from this site. Please try again.")

// handleGitHubCallback finishes the OAuth flow: it checks the state,
// exchanges the code, reads the GitHub profile, and logs in the linked
// user — linking the account to the logged-in user, or creating a new user
// with a free username derived from the GitHub login.
func (s *Server) handleGitHubCallback(w http.ResponseWriter, r *http.Request) {
	if s.oauth == nil {
		s.renderError(w, r, errGitHubOff)
		return
	}
	clear := s.cookie(r, stateCookie, "", -1)
	clear.Path = "/auth/github"
	http.SetCookie(w, clear)

	q := r.URL.Query()
	c, err := r.Cookie(stateCookie)
	if err != nil {
		s.renderError(w, r, errGitHubState)
		return
	}
	state, verifier, ok := strings.Cut(c.Value, ".")
	if !ok || q.Get("state") == "" || !hmac.Equal([]byte(q.Get("state")), []byte(state)) {
		s.logger().Warn("GitHub callback with a bad state", "ip", s.clientIP(r))
		s.renderError(w, r, errGitHubState)
		return
	}
	if e := q.Get("error"); e != "" {
		s.render(w, r, http.StatusUnauthorized, "home", &page{
			User:       s.userOrNil(r),
			LoginError: "GitHub login was cancelled or refused, so you are not logged in.",
		})
		return
	}
	code := q.Get("code")
	if code == "" {
		s.renderError(w, r, chat.Errorf(chat.EINVALID, "GitHub sent no authorization code. Please try again."))
		return
	}

	ctx, cancel := context.WithTimeout(r.Context(), gitHubTimeout)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, s.httpClient())
	tok, err := s.oauthConfig(r).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		s.logger().Warn("GitHub token exchange failed", "err", err)
		s.renderError(w, r, chat.Errorf(chat.EUNAUTHORIZED, "GitHub did not confirm the login. Please try again."))
		return
	}
	gh, err := s.fetchGitHubUser(ctx, tok.AccessToken)
	if err != nil {
		s.logger().Warn("GitHub profile request failed", "err", err)
		s.renderError(w, r, chat.Errorf(chat.EUNAUTHORIZED, "Could not read your GitHub profile. Please try again."))
		return
	}

	u, linked, err := s.gitHubAccount(r, gh)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	if linked {
		http.Redirect(w, r, "/profile?linked", http.StatusSeeOther)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.renderError(w, r, err)
		return
	}
	http.Redirect(w, r, "/chat", http.StatusSeeOther)
}

// gitHubUser is the part of GitHub's GET /user answer we use.
type gitHubUser struct {
	ID    int64  `json:"id"`
	Login string `json:"login"`
	Name  string `json:"name"`
}

func (s *Server) fetchGitHubUser(ctx context.Context, accessToken string) (*gitHubUser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cmp(s.cfg.GitHub.APIURL, GitHubAPIURL), "/")+"/user", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+accessToken)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "switchboard-chat")
	resp, err := s.httpClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /user: %s", resp.Status)
	}
	var gh gitHubUser
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&gh); err != nil {
		return nil, fmt.Errorf("GET /user: %w", err)
	}
	if gh.ID <= 0 || gh.Login == "" {
		return nil, errors.New("GET /user: no id or login")
	}
	return &gh, nil
}

// usernameAttempts is how many derived usernames are tried for a new
// GitHub user before falling back to a random suffix.
const usernameAttempts = 20

// gitHubAccount returns the user to log in for the GitHub profile gh.
// linked is true when gh was just linked to the already logged-in user.
func (s *Server) gitHubAccount(r *http.Request, gh *gitHubUser) (u *chat.User, linked bool, err error) {
	ctx := r.Context()
	current := s.userOrNil(r)
	existing, err := s.users.FindUserByGitHubID(ctx, gh.ID)
	switch {
	case err == nil:
		if current != nil && current.ID != existing.ID {
			return nil, false, chat.Errorf(chat.ECONFLICT, "That GitHub account is already linked to another user.")
		}
		return existing, false, nil
	case chat.ErrorCode(err) != chat.ENOTFOUND:
		return nil, false, err
	}

	if current != nil {
		if current.GitHubID != 0 {
			return nil, false, chat.Errorf(chat.ECONFLICT, "Your account is already linked to another GitHub account.")
		}
		if err := s.users.LinkGitHub(ctx, current.ID, gh.ID, gh.Name); err != nil {
			return nil, false, err
		}
		return current, true, nil
	}

	names := chat.UsernameCandidates(gh.Login, usernameAttempts)
	base := chat.UsernameFromLogin(gh.Login)
	base = base[:min(len(base), chat.UsernameMaxLen-9)]
	names = append(names, base+"-"+newToken()[:8]) // last resort: a random suffix
	for _, name := range names {
		u := &chat.User{Username: name, Name: chat.CleanName(gh.Name), GitHubID: gh.ID}
		err := s.users.CreateUser(ctx, u)
		if err == nil {
			s.logger().Info("user registered with GitHub", "user", u.Username, "id", u.ID)
			return u, false, nil
		}
		if chat.ErrorCode(err) != chat.ECONFLICT {
			return nil, false, err
		}
		// Taken username, or the same GitHub account created concurrently.
		if again, err := s.users.FindUserByGitHubID(ctx, gh.ID); err == nil {
			return again, false, nil
		}
	}
	return nil, false, chat.Errorf(chat.ECONFLICT, "Could not find a free username for %q.", gh.Login)
}
