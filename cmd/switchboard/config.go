package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"switchboard/chat/realtime"
	"switchboard/chat/web"
)

// Config is everything the program can be told. It is filled here only —
// defaults, then environment variables, then command-line flags — and
// handed to the packages as their own option structs.
type Config struct {
	Addr            string        // listen address
	DBPath          string        // SQLite database file
	FCCTesting      bool          // freeCodeCamp checker endpoints (/_api/…)
	BehindTLS       bool          // Secure cookies behind a TLS-terminating proxy
	TrustProxy      int           // proxies in front, appending to X-Forwarded-For; 0: none
	AllowedOrigins  []string      // extra origins for sockets and forms
	LogLevel        slog.Level    // minimum level logged
	SessionTTL      time.Duration // how long a login lasts
	ShutdownTimeout time.Duration // grace period for open connections on exit
	ShutdownDelay   time.Duration // serving on, /healthz 503, before the shutdown
	PingInterval    time.Duration // Socket.IO heartbeat interval
	PingTimeout     time.Duration // how long a silent client is kept after a ping
	MaxTabs         int           // sockets one user may have open at once; 0: no limit

	GitHub web.GitHubConfig // "Log in with GitHub"; off unless id and secret are set

	// BcryptCost is the cost of password hashes (web.DefaultBcryptCost if
	// 0). Not a flag: tests lower it.
	BcryptCost int

	// ServerSource is served at /_api/server.js with FCCTesting: the Go
	// source of the socket handlers, provided by the realtime package.
	ServerSource []byte
}

// DefaultConfig returns the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{
		Addr:            ":3000",
		DBPath:          "switchboard.db",
		LogLevel:        slog.LevelInfo,
		SessionTTL:      web.DefaultSessionTTL,
		ShutdownTimeout: 10 * time.Second,
		PingInterval:    25 * time.Second,
		PingTimeout:     20 * time.Second,
		MaxTabs:         realtime.DefaultMaxTabsPerUser,
	}
}

// ParseConfig builds the configuration from the defaults, then the
// environment (getenv), then the command-line arguments: each later source
// overrides the earlier ones. It checks the result, and its errors name the
// setting at fault (flag and environment variable). For -h/--help it
// returns flag.ErrHelp; print Usage then.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // the error is returned: the caller says it once
	fs.Usage = func() {}     // the caller prints Usage for --help, a hint otherwise
	defineFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		if i := len(args) - fs.NArg(); i > 0 && strings.TrimLeft(args[i-1], "-") == "trust-proxy" {
			return cfg, fmt.Errorf("unexpected argument %q: write --trust-proxy=%s for %[2]s proxies", fs.Arg(0), fs.Arg(0))
		}
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return cfg, cfg.Validate()
}

// Validate reports every setting that cannot work, each named by its flag
// and environment variable.
func (c Config) Validate() error {
	var errs []error
	bad := func(setting string, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", setting, fmt.Sprintf(format, args...)))
	}
	if host, port, err := net.SplitHostPort(c.Addr); err != nil || strings.ContainsAny(host, " /") {
		bad("--addr/PORT", "%q is not host:port (such as :3000 or 127.0.0.1:3000)", c.Addr)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("--addr/PORT", "%q: the port must be a number from 0 to 65535", c.Addr)
	}
	if c.DBPath == "" {
		bad("--db/DATABASE", "empty database path")
	}
	positive := func(setting string, d time.Duration) {
		if d <= 0 {
			bad(setting, "%v: must be positive", d)
		}
	}
	positive("--session-ttl/SESSION_TTL", c.SessionTTL)
	positive("--shutdown-timeout/SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	if c.ShutdownDelay < 0 {
		bad("--shutdown-delay/SHUTDOWN_DELAY", "%v: must not be negative", c.ShutdownDelay)
	}
	positive("--ping-interval/PING_INTERVAL", c.PingInterval)
	positive("--ping-timeout/PING_TIMEOUT", c.PingTimeout)
	if c.TrustProxy < 0 || c.TrustProxy > maxTrustedProxies {
		bad("--trust-proxy/TRUST_PROXY", "%d: want the number of proxies in front, 0 to %d", c.TrustProxy, maxTrustedProxies)
	}
	if c.MaxTabs < 0 {
		bad("--max-tabs/MAX_TABS", "%d: must not be negative (0 means no limit)", c.MaxTabs)
	}
	for _, o := range c.AllowedOrigins {
		if _, err := web.NormalizeOrigin(o); err != nil && o != "*" {
			bad("--allowed-origins/ALLOWED_ORIGINS", "%q: %v", o, err)
		}
	}

	g := c.GitHub
	switch {
	case g.ClientID != "" && g.ClientSecret == "":
		bad("GITHUB_CLIENT_SECRET", "not set, but GITHUB_CLIENT_ID is: set both for \"Log in with GitHub\", or neither")
	case g.ClientID == "" && g.ClientSecret != "":
		bad("GITHUB_CLIENT_ID", "not set, but GITHUB_CLIENT_SECRET is: set both for \"Log in with GitHub\", or neither")
	case !g.Enabled() && (g.RedirectURL != "" || g.AuthURL != "" || g.TokenURL != "" || g.APIURL != ""):
		bad("GITHUB_CLIENT_ID", "not set, but GitHub login settings are (--github-…-url): set GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET too, or none of them")
	}
	if g.RedirectURL != "" {
		if err := checkURL(g.RedirectURL); err != nil {
			bad("--github-callback-url/GITHUB_CALLBACK_URL", "%q: %v", g.RedirectURL, err)
		} else if u, _ := url.Parse(g.RedirectURL); u.Path != web.GitHubCallbackPath {
			bad("--github-callback-url/GITHUB_CALLBACK_URL", "%q: the path must be %s, where this server takes GitHub's answer",
				g.RedirectURL, web.GitHubCallbackPath)
		}
	}
	for setting, v := range map[string]string{
		"--github-auth-url/GITHUB_AUTH_URL":   g.AuthURL,
		"--github-token-url/GITHUB_TOKEN_URL": g.TokenURL,
		"--github-api-url/GITHUB_API_URL":     g.APIURL,
	} {
		if v != "" {
			if err := checkURL(v); err != nil {
				bad(setting, "%q: %v", v, err)
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// checkURL checks that v is an absolute http(s) URL without a fragment.
func checkURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
		return errors.New("want an absolute http:// or https:// URL")
	}
	return nil
}

// defineFlags defines the flags on fs, writing into c; each flag's default
// is c's current value.
func defineFlags(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen `address` host:port [env PORT: PORT=8080 means :8080]")
	fs.StringVar(&c.DBPath, "db", c.DBPath, "SQLite database `file`, created if missing [env DATABASE]")
	fs.BoolVar(&c.FCCTesting, "fcc-testing", c.FCCTesting, "serve the freeCodeCamp checker's /_api/ endpoints with CORS for freeCodeCamp origins;\nexposes source code, so off by default [env FCC_TESTING=1]")
	fs.BoolVar(&c.BehindTLS, "behind-tls", c.BehindTLS, "mark cookies Secure: the server is behind an HTTPS proxy [env BEHIND_TLS=1]")
	fs.Var((*proxiesFlag)(&c.TrustProxy), "trust-proxy", "the server is behind `N` reverse proxies (--trust-proxy alone: 1), each appending to\nX-Forwarded-For: login limits key by the address the outermost one saw [env TRUST_PROXY=N or 1/0]")
	fs.Var((*listFlag)(&c.AllowedOrigins), "allowed-origins", "comma-separated extra `origins` (https://example.com) allowed to open sockets;\nthe server's own origin is always allowed; * allows any [env ALLOWED_ORIGINS]")
	fs.TextVar(&c.LogLevel, "log-level", c.LogLevel, "minimum log `level`: debug, info, warn or error [env LOG_LEVEL]")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "how long a login lasts [env SESSION_TTL]")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for open connections on SIGINT/SIGTERM [env SHUTDOWN_TIMEOUT]")
	fs.DurationVar(&c.ShutdownDelay, "shutdown-delay", c.ShutdownDelay, "on SIGINT/SIGTERM, keep serving this long with GET /healthz answering 503,\nso a load balancer stops sending traffic first [env SHUTDOWN_DELAY]")
	fs.DurationVar(&c.PingInterval, "ping-interval", c.PingInterval, "Socket.IO heartbeat: time between server pings [env PING_INTERVAL]")
	fs.DurationVar(&c.PingTimeout, "ping-timeout", c.PingTimeout, "Socket.IO heartbeat: a client silent this long after a ping is counted out\n(a lost network leaves after ping-interval + ping-timeout) [env PING_TIMEOUT]")
	fs.IntVar(&c.MaxTabs, "max-tabs", c.MaxTabs, "the most chat sockets (browser tabs) one user may have open at once; one more is\nrefused with a message saying so; 0 for no limit [env MAX_TABS]")
	fs.StringVar(&c.GitHub.RedirectURL, "github-callback-url", c.GitHub.RedirectURL, "GitHub OAuth callback `URL` registered with GitHub;\ndefault: derived from each request's host [env GITHUB_CALLBACK_URL]")
	fs.StringVar(&c.GitHub.AuthURL, "github-auth-url", c.GitHub.AuthURL, "GitHub OAuth authorize `URL` (default GitHub's) [env GITHUB_AUTH_URL]")
	fs.StringVar(&c.GitHub.TokenURL, "github-token-url", c.GitHub.TokenURL, "GitHub OAuth token `URL` (default GitHub's) [env GITHUB_TOKEN_URL]")
	fs.StringVar(&c.GitHub.APIURL, "github-api-url", c.GitHub.APIURL, "GitHub API base `URL` (default GitHub's) [env GITHUB_API_URL]")
}

// Usage writes the --help text: every flag with its built-in default and
// environment variable, and the settings only the environment can give.
func Usage(w io.Writer) {
	fmt.Fprint(w, `switchboard — the Switchboard chat server (Socket.IO chat room, freeCodeCamp "Advanced Node and Express").

Usage:
  switchboard [flags]

Settings come from, in increasing priority: built-in defaults, environment
variables, flags.

Flags (write them -flag or --flag):
`)
	fs := flag.NewFlagSet("switchboard", flag.ContinueOnError)
	fs.SetOutput(w)
	defaults := DefaultConfig()
	defineFlags(fs, &defaults)
	fs.PrintDefaults()
	fmt.Fprint(w, `
Environment only (secrets stay out of the process list):
  GITHUB_CLIENT_ID      GitHub OAuth app client id
  GITHUB_CLIENT_SECRET  GitHub OAuth app client secret
                        "Log in with GitHub" is on when both are set; setting only one
                        of them (or a --github-…-url without them) is an error.

Boolean environment variables accept 1/0, true/false, yes/no, on/off.
Send SIGINT or SIGTERM to stop gracefully: /healthz answers 503 (for
--shutdown-delay, still serving), then the server stops accepting, tells
connected clients, waits up to --shutdown-timeout, then closes the database.
It exits 0 when everything ended in time, 1 when the timeout cut connections
off. A second signal during the shutdown exits at once (1).
`)
}

// applyEnv overlays the environment on c.
func applyEnv(c *Config, getenv func(string) string) error {
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	boolean := func(name string, dst *bool) {
		v := getenv(name)
		if v == "" {
			return
		}
		b, err := parseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
		*dst = b
	}
	duration := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = d
		}
	}

	if port := getenv("PORT"); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			errs = append(errs, fmt.Errorf("PORT: %q is not a port number", port))
		} else {
			c.Addr = ":" + port
		}
	}
	str("DATABASE", &c.DBPath)
	boolean("FCC_TESTING", &c.FCCTesting)
	boolean("BEHIND_TLS", &c.BehindTLS)
	if v := getenv("TRUST_PROXY"); v != "" {
		if err := (*proxiesFlag)(&c.TrustProxy).Set(v); err != nil {
			errs = append(errs, fmt.Errorf("TRUST_PROXY: %w", err))
		}
	}
	if v := getenv("ALLOWED_ORIGINS"); v != "" {
		(*listFlag)(&c.AllowedOrigins).Set(v)
	}
	if v := getenv("LOG_LEVEL"); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL: %w", err))
		}
	}
	duration("SESSION_TTL", &c.SessionTTL)
	duration("SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	duration("SHUTDOWN_DELAY", &c.ShutdownDelay)
	duration("PING_INTERVAL", &c.PingInterval)
	duration("PING_TIMEOUT", &c.PingTimeout)
	if v := getenv("MAX_TABS"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Errorf("MAX_TABS: %q is not a number", v))
		}
		c.MaxTabs = n
	}
	str("GITHUB_CLIENT_ID", &c.GitHub.ClientID)
	str("GITHUB_CLIENT_SECRET", &c.GitHub.ClientSecret)
	str("GITHUB_CALLBACK_URL", &c.GitHub.RedirectURL)
	str("GITHUB_AUTH_URL", &c.GitHub.AuthURL)
	str("GITHUB_TOKEN_URL", &c.GitHub.TokenURL)
	str("GITHUB_API_URL", &c.GitHub.APIURL)
	return errors.Join(errs...)
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean", v)
}

// maxTrustedProxies bounds --trust-proxy: a longer chain is a mistake.
const maxTrustedProxies = 10

// proxiesFlag is --trust-proxy: a number of proxies, or a boolean (alone
// or true: 1; false: 0) as the flag was before it took a number.
type proxiesFlag int

func (p *proxiesFlag) String() string {
	if p == nil {
		return "0"
	}
	return strconv.Itoa(int(*p))
}

func (p *proxiesFlag) Set(v string) error {
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
		*p = proxiesFlag(n) // range checked with the rest of the Config
		return nil
	}
	b, err := parseBool(v)
	if err != nil {
		return fmt.Errorf("%q is neither a number of proxies nor a boolean", v)
	}
	*p = 0
	if b {
		*p = 1
	}
	return nil
}

// IsBoolFlag lets --trust-proxy stand alone, meaning one proxy.
func (p *proxiesFlag) IsBoolFlag() bool { return true }

// listFlag is a comma-separated list flag; setting it replaces the list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
