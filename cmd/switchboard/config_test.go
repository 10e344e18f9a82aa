package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestConfigDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, DefaultConfig()) {
		t.Errorf("got %+v, want the defaults %+v", cfg, DefaultConfig())
	}
	if cfg.Addr != ":3000" || cfg.DBPath != "switchboard.db" || cfg.FCCTesting || cfg.GitHub.Enabled() {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestConfigEnvironmentOverridesDefaults(t *testing.T) {
	cfg, err := ParseConfig(nil, env(map[string]string{
		"PORT":                 "8080",
		"DATABASE":             "/data/chat.db",
		"FCC_TESTING":          "1",
		"BEHIND_TLS":           "true",
		"TRUST_PROXY":          "yes",
		"ALLOWED_ORIGINS":      "https://a.example, https://b.example",
		"LOG_LEVEL":            "debug",
		"SESSION_TTL":          "2h",
		"SHUTDOWN_TIMEOUT":     "3s",
		"SHUTDOWN_DELAY":       "4s",
		"MAX_TABS":             "5",
		"GITHUB_CLIENT_ID":     "id",
		"GITHUB_CLIENT_SECRET": "secret",
		"GITHUB_CALLBACK_URL":  "https://chat.example/auth/github/callback",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := DefaultConfig()
	want.Addr = ":8080"
	want.DBPath = "/data/chat.db"
	want.FCCTesting = true
	want.BehindTLS = true
	want.TrustProxy = 1
	want.AllowedOrigins = []string{"https://a.example", "https://b.example"}
	want.LogLevel = slog.LevelDebug
	want.SessionTTL = 2 * time.Hour
	want.ShutdownTimeout = 3 * time.Second
	want.ShutdownDelay = 4 * time.Second
	want.MaxTabs = 5
	want.GitHub.ClientID = "id"
	want.GitHub.ClientSecret = "secret"
	want.GitHub.RedirectURL = "https://chat.example/auth/github/callback"
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got  %+v\nwant %+v", cfg, want)
	}
	if !cfg.GitHub.Enabled() {
		t.Error("GitHub login should be enabled with id and secret")
	}
}

func TestConfigFlagsOverrideEnvironment(t *testing.T) {
	cfg, err := ParseConfig([]string{
		"--addr", "127.0.0.1:9000",
		"--db=/tmp/flag.db",
		"--fcc-testing=false",
		"-log-level", "warn",
		"--allowed-origins", "https://c.example",
		"--max-tabs", "0",
	}, env(map[string]string{
		"MAX_TABS":        "5",
		"PORT":            "8080",
		"DATABASE":        "/data/env.db",
		"FCC_TESTING":     "1",
		"LOG_LEVEL":       "debug",
		"ALLOWED_ORIGINS": "https://a.example",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Addr != "127.0.0.1:9000" || cfg.DBPath != "/tmp/flag.db" || cfg.FCCTesting ||
		cfg.LogLevel != slog.LevelWarn || !reflect.DeepEqual(cfg.AllowedOrigins, []string{"https://c.example"}) || cfg.MaxTabs != 0 {
		t.Errorf("flags did not win: %+v", cfg)
	}
	// Settings no flag names keep their environment value.
	cfg, _ = ParseConfig([]string{"--db", "x.db"}, env(map[string]string{"PORT": "8080"}))
	if cfg.Addr != ":8080" {
		t.Errorf("Addr = %q, want :8080 from PORT", cfg.Addr)
	}
}

// --trust-proxy takes a number of proxies; alone or as a boolean, as it was
// before it took one, it means one proxy or none.
func TestTrustProxyTakesANumberOrABoolean(t *testing.T) {
	cases := []struct {
		args []string
		env  string
		want int
	}{
		{nil, "", 0},
		{nil, "2", 2},
		{nil, "yes", 1},
		{nil, "1", 1},
		{nil, "off", 0},
		{[]string{"--trust-proxy"}, "", 1},
		{[]string{"--trust-proxy=3"}, "", 3},
		{[]string{"--trust-proxy=false"}, "2", 0},
		{[]string{"--trust-proxy=true"}, "", 1},
		{[]string{"--trust-proxy=0"}, "true", 0},
		{[]string{"--trust-proxy", "--max-tabs", "3"}, "", 1},
	}
	for _, c := range cases {
		cfg, err := ParseConfig(c.args, env(map[string]string{"TRUST_PROXY": c.env}))
		if err != nil || cfg.TrustProxy != c.want {
			t.Errorf("%q, TRUST_PROXY=%q: %d (%v), want %d", c.args, c.env, cfg.TrustProxy, err, c.want)
		}
	}
	for _, bad := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"--trust-proxy", "2"}, "", "write --trust-proxy=2"},
		{[]string{"--trust-proxy=-1"}, "", "--trust-proxy/TRUST_PROXY"},
		{[]string{"--trust-proxy=11"}, "", "0 to 10"},
		{[]string{"--trust-proxy=some"}, "", "neither a number of proxies nor a boolean"},
		{nil, "maybe", "TRUST_PROXY"},
	} {
		_, err := ParseConfig(bad.args, env(map[string]string{"TRUST_PROXY": bad.env}))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q, TRUST_PROXY=%q: error %v, want one saying %q", bad.args, bad.env, err, bad.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"bad PORT", nil, map[string]string{"PORT": "http"}},
		{"PORT out of range", nil, map[string]string{"PORT": "70000"}},
		{"bad boolean", nil, map[string]string{"FCC_TESTING": "maybe"}},
		{"bad duration", nil, map[string]string{"SESSION_TTL": "forever"}},
		{"bad log level", nil, map[string]string{"LOG_LEVEL": "loud"}},
		{"unknown flag", []string{"--nope"}, nil},
		{"stray argument", []string{"serve"}, nil},
		{"empty db", []string{"--db", ""}, nil},
	}
	for _, c := range cases {
		if _, err := ParseConfig(c.args, env(c.env)); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func TestHelpDocumentsEverySetting(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--help"}, env(nil), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("--help exited %d: %s", code, stderr.String())
	}
	help := stdout.String()
	for _, want := range []string{
		"-addr", "PORT", ":3000",
		"-db", "DATABASE", "switchboard.db",
		"-fcc-testing", "FCC_TESTING",
		"-behind-tls", "BEHIND_TLS",
		"-trust-proxy", "TRUST_PROXY",
		"-allowed-origins", "ALLOWED_ORIGINS",
		"-log-level", "LOG_LEVEL",
		"-session-ttl", "SESSION_TTL",
		"-shutdown-timeout", "SHUTDOWN_TIMEOUT",
		"-shutdown-delay", "SHUTDOWN_DELAY",
		"-max-tabs", "MAX_TABS",
		"GITHUB_CLIENT_ID", "GITHUB_CLIENT_SECRET",
		"-github-callback-url", "GITHUB_CALLBACK_URL",
		"-github-auth-url", "-github-token-url", "-github-api-url",
		"SIGTERM",
	} {
		if !strings.Contains(help, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	// Every defined flag is in the help.
	fs := flag.NewFlagSet("", flag.ContinueOnError)
	var c Config
	defineFlags(fs, &c)
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.Contains(help, "-"+f.Name) {
			t.Errorf("flag %s undocumented", f.Name)
		}
	})
}

func TestBadFlagsExitWithUsageHint(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"--bogus"}, env(nil), &stdout, &stderr); code != 2 {
		t.Errorf("exit code %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "--help") || !strings.Contains(stderr.String(), "bogus") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

// TestRunServesUntilCancelled runs the program as main does, through
// environment and flags, and stops it the way SIGTERM does.
func TestRunServesUntilCancelled(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	dbPath := filepath.Join(t.TempDir(), "run.db")
	go func() {
		done <- run(ctx, []string{"--addr", addr, "--log-level", "debug"},
			env(map[string]string{"DATABASE": dbPath, "PORT": "1"}), io.Discard, &stderr)
	}()

	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not come up: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d\n%s", code, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if _, err := client.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
	logs := stderr.String()
	for _, want := range []string{"switchboard is listening", "path=/healthz", "status=200", "shutting down"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestRunFailsCleanlyWhenTheAddressIsTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var stderr bytes.Buffer
	code := run(context.Background(), []string{"--addr", ln.Addr().String(), "--db", filepath.Join(t.TempDir(), "x.db")},
		env(nil), io.Discard, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "cannot start") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
