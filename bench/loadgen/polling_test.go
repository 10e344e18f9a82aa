package main

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"switchboard/socketio"
)

// The polling option, against the real library with the bench contract.
func TestSmokeOverPollingAgainstTheLibrary(t *testing.T) {
	srv := socketio.NewServer(nil)
	srv.On("chat message", func(s *socketio.Socket, e *socketio.Event) {
		if msg, err := e.Args.String(0); err == nil {
			_ = srv.Emit("chat message", map[string]string{"username": "bench", "message": msg})
		}
	})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	cfg, err := parseFlags([]string{"-scenario", "smoke", "-transport", "polling", "-n", "40", "-m", "5",
		"-addr", strings.TrimPrefix(hs.URL, "http://"), "-procs", "1", "-q"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Path != "/socket.io/?EIO=4&transport=polling" {
		t.Fatalf("path %q", cfg.Path)
	}
	cfg.PID = 0
	cfg.Timeout = 10 * time.Second
	res, err := run(cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 40 || res.Received != 40*5 || res.Lost != 0 {
		t.Fatalf("opened %d, received %d of %d, lost %d (%s)", res.Opened, res.Received, res.Expected, res.Lost, res.OpenError)
	}
}
