// Package testprog builds the chat program (./cmd/switchboard) once per test
// binary, for tests that run it as a child process.
package testprog

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	once sync.Once
	dir  string // holds the program; removed by Remove
	bin  string
	err  error
)

// Binary builds ./cmd/switchboard on first use (with the race detector when
// SWITCHBOARD_PROGRAM_RACE=1) and returns its path; a failed build fails t.
func Binary(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dir, err = os.MkdirTemp("", "switchboard-test-"); err != nil {
			return
		}
		bin = filepath.Join(dir, "switchboard")
		args := []string{"build", "-o", bin}
		if os.Getenv("SWITCHBOARD_PROGRAM_RACE") == "1" {
			args = append(args, "-race")
		}
		if out, buildErr := exec.Command("go", append(args, "switchboard/cmd/switchboard")...).CombinedOutput(); buildErr != nil {
			err = fmt.Errorf("go build ./cmd/switchboard: %v\n%s", buildErr, out)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// Remove deletes the built program; TestMain calls it after the tests.
func Remove() {
	if dir != "" {
		_ = os.RemoveAll(dir)
	}
}
