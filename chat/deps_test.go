package chat_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPackagesDependInward keeps the layout honest: the domain imports none
// of its subpackages, and the subpackages (one per dependency) do not
// import each other; only cmd/switchboard wires them together.
func TestPackagesDependInward(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	forbidden := map[string][]string{
		"switchboard/chat":        {"switchboard/chat/sqlite", "switchboard/chat/web", "switchboard/chat/realtime", "switchboard/web"},
		"switchboard/chat/sqlite": {"switchboard/chat/web", "switchboard/chat/realtime", "switchboard/web", "net/http"},
		"switchboard/chat/web":    {"switchboard/chat/sqlite", "switchboard/chat/realtime"},
	}
	for pkg, banned := range forbidden {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			deps[d] = true
		}
		for _, b := range banned {
			if deps[b] {
				t.Errorf("%s depends on %s", pkg, b)
			}
		}
		for d := range deps {
			if strings.HasPrefix(d, "switchboard/cmd/") || strings.HasPrefix(d, "switchboard/engineio") || strings.HasPrefix(d, "switchboard/socketio") {
				t.Errorf("%s depends on %s", pkg, d)
			}
		}
	}
}
