package sio

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
)

// Main parses -addr and -cpuprofile, runs serve(addr) until it fails or the process gets
// SIGINT/SIGTERM, and writes the CPU profile (if asked for) before exiting.
func Main(name string, serve func(addr string) error) {
	addr := flag.String("addr", "127.0.0.1:3000", "listen address")
	prof := flag.String("cpuprofile", "", "write a CPU profile to this file, stopped at SIGINT/SIGTERM")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		pprof.StartCPUProfile(f)
	}
	errc := make(chan error, 1)
	go func() { errc <- serve(*addr) }()
	fmt.Printf("%s bench server on http://%s\n", name, *addr)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	code := 0
	select {
	case err := <-errc:
		fmt.Fprintln(os.Stderr, name+":", err)
		code = 1
	case <-sig:
	}
	pprof.StopCPUProfile()
	os.Exit(code)
}
