package socketio_test

import (
	"os"
	"strings"
	"testing"
)

// The README's library snippet is Example_echoServer's body, which the
// test suite compiles and runs: a change to one must be made to the other.
func TestReadmeSnippetIsExampleEchoServer(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "`Example_echoServer`")
	_, after, ok2 := strings.Cut(after, "```go\n")
	snippet, _, ok3 := strings.Cut(after, "```")
	if !ok || !ok2 || !ok3 {
		t.Fatal("README.md has no ```go block after its mention of `Example_echoServer`")
	}
	_, body, ok := strings.Cut(string(example), "func Example_echoServer() {\n")
	body, _, ok2 = strings.Cut(body, "\t// Output:")
	if !ok || !ok2 {
		t.Fatal("example_test.go has no Example_echoServer with an Output comment")
	}
	var lines []string
	for line := range strings.Lines(body) {
		lines = append(lines, strings.TrimPrefix(line, "\t"))
	}
	if want := strings.Join(lines, ""); snippet != want {
		t.Errorf("README.md's snippet differs from Example_echoServer's body:\n--- README.md\n%s\n--- example_test.go\n%s", snippet, want)
	}
}
