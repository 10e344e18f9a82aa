package parser

import (
	"errors"
	"testing"
)

func TestAppendStringWritesWhatJSONStringifyWrites(t *testing.T) {
	// The wants were produced with Node.js: JSON.stringify(s).
	cases := []struct{ in, want string }{
		{"", `""`},
		{"chat message", `"chat message"`},
		{`a"b\c`, `"a\"b\\c"`},
		{"\b\f\n\r\t", `"\b\f\n\r\t"`},
		{"\x00\x01\x0b\x1a\x1f", `"\u0000\u0001\u000b\u001a\u001f"`},
		{"\x7f <>&/'", "\"\x7f <>&/'\""},
		{"\u2028\u2029", "\"\u2028\u2029\""},
		{"héllo 世界 💬", `"héllo 世界 💬"`},
		{"\uFFFD", "\"\uFFFD\""},
	}
	for _, c := range cases {
		if got := string(AppendString(nil, c.in)); got != c.want {
			t.Errorf("%q: got %s, want %s", c.in, got, c.want)
		}
	}
}

func TestAppendStringReplacesEachInvalidByte(t *testing.T) {
	cases := []struct{ in, want string }{
		{"a\xffb", "\"a\uFFFDb\""},
		{"\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""}, // a UTF-8-encoded surrogate
		{"\xe4\xb8", "\"\uFFFD\uFFFD\""},           // a truncated sequence
		{"é\xc3", "\"é\uFFFD\""},
	}
	for _, c := range cases {
		if got := string(AppendString(nil, c.in)); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

func TestAppendStringAppendsWithoutAllocating(t *testing.T) {
	buf := make([]byte, 0, 64)
	if got := string(AppendString([]byte(`["x",`), "y")); got != `["x","y"` {
		t.Fatalf("got %s", got)
	}
	allocs := testing.AllocsPerRun(100, func() { buf = AppendString(buf[:0], "héllo\n\"world\"\xff") })
	if allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

func TestUnquoteStringDecodesJSONStrings(t *testing.T) {
	cases := []struct{ in, want string }{
		{`""`, ""},
		{`"chat message"`, "chat message"},
		{`"héllo 世界"`, "héllo 世界"},
		{`"a\nb\"c\\d\/"`, "a\nb\"c\\d/"},
		{`"\u00e9\ud83d\udcac"`, "é💬"},
		{`"\ud800"`, "\uFFFD"},
		{"\"a\xffb\"", "a\uFFFDb"},
	}
	for _, c := range cases {
		got, err := UnquoteString([]byte(c.in))
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestUnquoteStringRejectsAnythingButAString(t *testing.T) {
	for _, in := range []string{``, `"`, `abc`, `"a`, `a"`, `'a'`, `"a"b"`, `"\x"`, "\"a\x01\"", ` "a"`, `1`, `null`} {
		if _, err := UnquoteString([]byte(in)); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%q: want ErrInvalidPacket, got %v", in, err)
		}
	}
}

func TestUnquoteStringWithoutEscapesCostsOneConversion(t *testing.T) {
	raw := []byte(`"chat message"`)
	if allocs := testing.AllocsPerRun(100, func() { _, _ = UnquoteString(raw) }); allocs != 1 {
		t.Fatalf("%v allocations", allocs)
	}
}
