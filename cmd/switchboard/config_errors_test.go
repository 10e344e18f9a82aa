package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runBad runs the program with a configuration that cannot work and returns
// its exit code and stderr. The database lives in a temporary directory and
// the address is 127.0.0.1:0, unless args or env say otherwise.
func runBad(t *testing.T, args []string, environ map[string]string) (int, string) {
	t.Helper()
	base := []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "chat.db")}
	var stderr bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // should it start anyway, it stops at once
	code := run(ctx, append(base, args...), env(environ), io.Discard, &stderr)
	return code, stderr.String()
}

// Every configuration that cannot work stops the program before it serves:
// exit code 2, one message on stderr naming the setting (flag and
// environment variable), a hint to --help, no panic.
func TestBadConfigurationExitsNamingTheSetting(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		env     map[string]string
		setting string // the message must contain it
	}{
		{"PORT not a number", nil, map[string]string{"PORT": "abc"}, "PORT"},
		{"PORT out of range", nil, map[string]string{"PORT": "70000"}, "PORT"},
		{"address without port", []string{"--addr", "localhost"}, nil, "--addr"},
		{"address with a port out of range", []string{"--addr", "127.0.0.1:99999"}, nil, "--addr"},
		{"negative shutdown timeout flag", []string{"--shutdown-timeout=-1s"}, nil, "--shutdown-timeout"},
		{"negative shutdown timeout env", nil, map[string]string{"SHUTDOWN_TIMEOUT": "-1s"}, "SHUTDOWN_TIMEOUT"},
		{"negative shutdown delay", nil, map[string]string{"SHUTDOWN_DELAY": "-2s"}, "SHUTDOWN_DELAY"},
		{"negative session TTL", []string{"--session-ttl=-1h"}, nil, "--session-ttl"},
		{"zero ping interval", []string{"--ping-interval=0s"}, nil, "--ping-interval"},
		{"negative ping timeout", nil, map[string]string{"PING_TIMEOUT": "-5s"}, "PING_TIMEOUT"},
		{"bad duration flag", []string{"--ping-timeout", "soon"}, nil, "-ping-timeout"},
		{"negative tab limit", []string{"--max-tabs=-1"}, nil, "--max-tabs"},
		{"tab limit not a number", nil, map[string]string{"MAX_TABS": "many"}, "MAX_TABS"},
		{"unknown flag", []string{"--bogus"}, nil, "-bogus"},
		{"bad origin", nil, map[string]string{"ALLOWED_ORIGINS": "example.com"}, "ALLOWED_ORIGINS"},
		{"GitHub id without secret", nil, map[string]string{"GITHUB_CLIENT_ID": "id"}, "GITHUB_CLIENT_SECRET"},
		{"GitHub secret without id", nil, map[string]string{"GITHUB_CLIENT_SECRET": "s3cr3t-value"}, "GITHUB_CLIENT_ID"},
		{"GitHub callback without the app", []string{"--github-callback-url", "https://chat.example/auth/github/callback"}, nil, "GITHUB_CLIENT_ID"},
		{"GitHub callback not a URL", []string{"--github-callback-url", "chat.example/callback"},
			map[string]string{"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "s3cr3t-value"}, "--github-callback-url"},
		{"GitHub callback elsewhere", nil, map[string]string{"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "s3cr3t-value",
			"GITHUB_CALLBACK_URL": "https://chat.example/callback"}, "GITHUB_CALLBACK_URL"},
		{"GitHub token URL not http", []string{"--github-token-url", "ftp://github.example/token"},
			map[string]string{"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "s3cr3t-value"}, "--github-token-url"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := runBad(t, c.args, c.env)
			if code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(stderr, c.setting) {
				t.Errorf("the message does not name %s:\n%s", c.setting, stderr)
			}
			if n := strings.Count(stderr, "switchboard: "); n != 1 {
				t.Errorf("%d messages, want one:\n%s", n, stderr)
			}
			if lines := strings.Split(strings.TrimSpace(stderr), "\n"); len(lines) != 2 ||
				!strings.Contains(lines[1], "--help") {
				t.Errorf("want the message and a hint to --help, got:\n%s", stderr)
			}
			for _, bad := range []string{"listening", "panic", "goroutine ", "s3cr3t-value"} {
				if strings.Contains(stderr, bad) {
					t.Errorf("stderr shows %q:\n%s", bad, stderr)
				}
			}
		})
	}
}

// A configuration that is valid but meets a world where it cannot work —
// the port taken, a database path that is not an SQLite file — stops the
// program at start: exit code 1, one error line naming the setting, nothing
// served, the file left as it was.
func TestStartupFailuresExitNamingTheSetting(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a database, but precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		args    []string
		setting string
	}{
		{"port in use", []string{"--addr", taken.Addr().String()}, "--addr/PORT"},
		{"database is a text file", []string{"--db", text}, "--db/DATABASE"},
		{"database is a directory", []string{"--db", dir}, "--db/DATABASE"},
		{"database under a file", []string{"--db", filepath.Join(text, "chat.db")}, "--db/DATABASE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "chat.db")}, c.args...)
			var stderr bytes.Buffer
			code := run(context.Background(), args, env(nil), io.Discard, &stderr)
			logs := stderr.String()
			if code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if !strings.Contains(logs, c.setting) {
				t.Errorf("the message does not name %s:\n%s", c.setting, logs)
			}
			if n := strings.Count(logs, "level=ERROR"); n != 1 {
				t.Errorf("%d error lines, want one:\n%s", n, logs)
			}
			for _, bad := range []string{"listening", "panic", "goroutine "} {
				if strings.Contains(logs, bad) {
					t.Errorf("stderr shows %q:\n%s", bad, logs)
				}
			}
		})
	}
	if b, err := os.ReadFile(text); err != nil || string(b) != "not a database, but precious\n" {
		t.Errorf("the text file given as database was changed: %q, %v", b, err)
	}
}
