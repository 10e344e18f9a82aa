// Command switchboard runs the Switchboard chat server: the freeCodeCamp
// "Socket.IO Chat Room" with accounts, GitHub login and an embedded SQLite
// database. Run it with --help for its settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"switchboard/socketio"
)

func main() {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-signals
		cancel() // the first signal: shut down gracefully
		s := <-signals
		// The second: the operator will not wait. Whatever is in flight is
		// cut off; SQLite's journal keeps the database consistent.
		slog.New(slog.NewTextHandler(os.Stderr, nil)).Error(
			"second signal during the shutdown: exiting at once", "signal", s.String())
		os.Exit(1)
	}()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is the whole program: it parses the configuration, starts the server
// and serves until ctx is cancelled (SIGINT/SIGTERM) or serving fails, then
// shuts down gracefully. It returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := ParseConfig(args, getenv)
	if errors.Is(err, flag.ErrHelp) {
		Usage(stdout)
		return 0
	} else if err != nil {
		fmt.Fprintf(stderr, "switchboard: %v\nRun 'switchboard --help' for usage.\n", err)
		return 2
	}

	m := NewMain()
	cfg.ServerSource = m.Config.ServerSource
	m.Config = cfg
	m.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))

	if !socketio.ClientBundleAvailable() {
		m.Logger.Warn("the socket.io client bundle is not built into this binary: the chat page cannot connect; run `make deps` (scripts/deps.sh bundle) and rebuild")
	}

	if err := m.Run(ctx); err != nil {
		m.Logger.Error("cannot start", "err", err)
		m.Close()
		return 1
	}
	code := 0
	select {
	case <-ctx.Done():
		m.Logger.Info("shutting down")
	case err := <-m.ServeErr():
		m.Logger.Error("server failed", "err", err)
		code = 1
	}
	if err := m.Close(); err != nil {
		m.Logger.Error("shutdown", "err", err)
		code = 1
	}
	return code
}
