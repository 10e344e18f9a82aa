package interop

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"switchboard/socketio"
)

// unicode covers what JSON and UTF-16 make interesting: non-BMP characters
// (surrogate pairs), combining marks, right-to-left text, characters that
// JavaScript and JSON treat differently (U+2028, U+2029), control characters,
// NUL, quotes and backslashes, and HTML characters encoding/json would escape.
var unicode = []string{
	"",
	"héllo wörld",
	"日本語のテキスト",
	"emoji 😀🎉👩‍👩‍👧‍👦 and flags 🇫🇷",
	"𝄞 music, 𐍈 gothic",
	"e\u0301 combining, ﷽",
	"שלום עולם مرحبا",
	"line\u2028separator\u2029paragraph",
	"tab\tnewline\ncr\rnul\x00bell\x07",
	`quotes " and \ backslash \" \\`,
	"<script>&amp;</script>",
	"\uFEFF BOM and \uFFFD replacement",
}

// nested is a JSON value with every kind of JSON value, nested.
func nested() map[string]any {
	return map[string]any{
		"string": "text ✓",
		"int":    42,
		"neg":    -7,
		"float":  3.25,
		"big":    9007199254740991, // 2^53-1, exact in both languages
		"exp":    1e21,
		"small":  1e-7,
		"true":   true,
		"false":  false,
		"null":   nil,
		"empty":  map[string]any{},
		"list":   []any{},
		"deep": map[string]any{
			"a": []any{1, "two", []any{3, map[string]any{"four": []any{nil, true}}}},
			"b": map[string]any{"c": map[string]any{"d": map[string]any{"e": "deep ✓"}}},
		},
		"unicode":      unicode,
		"key with ünï": "value",
	}
}

// largeString returns about n bytes of text with multi-byte characters.
func largeString(n int) string {
	const chunk = "lorem ipsum ünïcödé ✓ 😀 "
	return strings.Repeat(chunk, n/len(chunk))
}

// largeBinary returns n bytes with every byte value.
func largeBinary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/256)
	}
	return b
}

// decodeAll decodes every argument of e with encoding/json into any.
func decodeAll(t *testing.T, e *socketio.Event) []any {
	t.Helper()
	out := make([]any, e.Args.Len())
	for i := range out {
		if err := e.Args.Decode(i, &out[i]); err != nil {
			t.Fatalf("decoding argument %d: %v", i, err)
		}
	}
	return out
}

// jsonCanon is v after a trip through encoding/json (numbers as float64).
func jsonCanon(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// JSON and binary payloads go both ways over each transport: what the Go
// handler decodes is what the client sent, what the client receives is what
// Go sent.
func TestPayloads(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, nil, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{transport}})})
			s := reg.get(t, "a")
			n.event(t, "a", "welcome")

			t.Run("nested JSON from the client", func(t *testing.T) {
				n.emit(t, "a", "echo", nested(), unicode, 0, -1.5, true, nil, "last")
				got := reg.event(t, "a", "echo")
				want := jsonCanon(t, []any{nested(), unicode, 0, -1.5, true, nil, "last"})
				if args := decodeAll(t, got.Event); !reflect.DeepEqual(args, want) {
					t.Fatalf("Go decoded\n%s\nwant\n%s", short(args), short(want))
				}
				var list []string // typed decoding
				if err := got.Event.Args.Decode(1, &list); err != nil || !reflect.DeepEqual(list, unicode) {
					t.Fatalf("strings: got %q (%v), want %q", list, err, unicode)
				}
				sameArgs(t, n.event(t, "a", "echo"), nested(), unicode, 0, -1.5, true, nil, "last")
			})

			t.Run("JSON from Go", func(t *testing.T) {
				type inner struct {
					Text  string   `json:"text"`
					Tags  []string `json:"tags"`
					Score float64  `json:"score"`
					Skip  string   `json:"-"`
					Empty *int     `json:"empty"`
				}
				value := struct {
					ID      int               `json:"id"`
					Inner   inner             `json:"inner"`
					Map     map[string]any    `json:"map"`
					Strings map[string]string `json:"strings"`
				}{
					ID:      7,
					Inner:   inner{Text: "ünïcödé ✓ 😀", Tags: []string{"a", "b"}, Score: 0.1, Skip: "hidden"},
					Map:     nested(),
					Strings: map[string]string{"html": "<b>&</b>", "sep": "\u2028\u2029"},
				}
				if err := s.Emit("from go", value, unicode, "plain", 12, 1.5, false, nil); err != nil {
					t.Fatal(err)
				}
				sameArgs(t, n.event(t, "a", "from go"), jsonCanon(t, value), unicode, "plain", 12, 1.5, false, nil)
			})

			t.Run("large text both ways", func(t *testing.T) {
				big := largeString(500_000)
				n.emit(t, "a", "echo", big)
				got := reg.event(t, "a", "echo")
				if str, err := got.Event.Args.String(0); err != nil || str != big {
					t.Fatalf("Go got %d bytes (%v), want %d", len(str), err, len(big))
				}
				echo := n.event(t, "a", "echo")
				if str, _ := echo.arg(t, 0).(string); str != big {
					t.Fatalf("client got %d bytes back, want %d", len(str), len(big))
				}
				if err := s.Emit("from go", big); err != nil {
					t.Fatal(err)
				}
				if str, _ := n.event(t, "a", "from go").arg(t, 0).(string); str != big {
					t.Fatalf("client got %d bytes, want %d", len(str), len(big))
				}
			})

			t.Run("large binary both ways", func(t *testing.T) {
				big := largeBinary(500_000)
				n.emit(t, "a", "echo", big)
				got := reg.event(t, "a", "echo")
				if b, err := got.Event.Args.Bytes(0); err != nil || !bytes.Equal(b, big) {
					t.Fatalf("Go got %d bytes (%v), want the %d sent", len(b), err, len(big))
				}
				echo := n.event(t, "a", "echo")
				if b := binBytes(t, echo.arg(t, 0)); !bytes.Equal(b, big) {
					t.Fatalf("client got %d bytes back, want the %d sent", len(b), len(big))
				}
				if err := s.Emit("from go", big); err != nil {
					t.Fatal(err)
				}
				ev := n.event(t, "a", "from go")
				if b := binBytes(t, ev.arg(t, 0)); !bytes.Equal(b, big) {
					t.Fatalf("client got %d bytes, want %d", len(b), len(big))
				}
				if typ := binType(ev.arg(t, 0)); typ != "Buffer" {
					t.Errorf("Node client received binary as %s, want Buffer", typ)
				}
			})

			t.Run("several buffers in one event from the client", func(t *testing.T) {
				b0, b1, b2, b3 := []byte("first"), largeBinary(1000), []byte{0, 255, 0, 128}, []byte("in a list")
				n.emit(t, "a", "files", b0, "between", b1,
					map[string]any{"name": "nested ✓", "data": b2, "list": []any{b3, "x"}}, []byte{})
				got := reg.event(t, "a", "files")
				args := got.Event.Args
				if args.Len() != 5 {
					t.Fatalf("Go got %d arguments, want 5", args.Len())
				}
				for i, want := range map[int][]byte{0: b0, 2: b1, 4: {}} {
					if b, err := args.Bytes(i); err != nil || !bytes.Equal(b, want) {
						t.Errorf("argument %d: got %q (%v), want %q", i, b, err, want)
					}
				}
				if str, err := args.String(1); err != nil || str != "between" {
					t.Errorf("argument 1: %q, %v", str, err)
				}
				var file struct {
					Name string
					Data []byte
					List []json.RawMessage
				}
				if err := args.Decode(3, &file); err != nil {
					t.Fatalf("decoding the nested buffers: %v", err)
				}
				if file.Name != "nested ✓" || !bytes.Equal(file.Data, b2) || len(file.List) != 2 {
					t.Errorf("nested: %+v", file)
				}
				var inList []byte
				if err := json.Unmarshal(file.List[0], &inList); err != nil || !bytes.Equal(inList, b3) {
					t.Errorf("buffer in a list: %q (%v)", inList, err)
				}
			})

			t.Run("buffers nested in maps and lists from Go", func(t *testing.T) {
				b2, b3 := []byte{0, 255, 7}, []byte("in a list")
				if err := s.Emit("nested from go", map[string]any{"name": "nested ✓", "data": b2, "list": []any{b3, "x"}}); err != nil {
					t.Fatal(err)
				}
				ev := n.event(t, "a", "nested from go")
				file, ok := ev.arg(t, 0).(map[string]any)
				if !ok {
					t.Fatalf("argument 0: %v", ev.arg(t, 0))
				}
				if typ := binType(file["data"]); typ != "Buffer" {
					t.Errorf("nested data arrived as %s, want Buffer", typ)
				} else if got := binBytes(t, file["data"]); !bytes.Equal(got, b2) {
					t.Errorf("nested data %v, want %v", got, b2)
				}
				list, _ := file["list"].([]any)
				if len(list) != 2 || binType(list[0]) != "Buffer" || !bytes.Equal(binBytes(t, list[0]), b3) || list[1] != "x" || file["name"] != "nested ✓" {
					t.Errorf("nested: %v", file)
				}
			})

			t.Run("several buffers in one event from Go", func(t *testing.T) {
				b0, b1, b2 := []byte("one"), largeBinary(3000), []byte{0xff, 0x00, 0xfe}
				if err := s.Emit("from go", b0, "text", b1, map[string]int{"n": 1}, b2, []byte{}); err != nil {
					t.Fatal(err)
				}
				ev := n.event(t, "a", "from go")
				sameArgs(t, ev, b0, "text", b1, map[string]int{"n": 1}, b2, []byte{})
				for _, i := range []int{0, 2, 4, 5} {
					if typ := binType(ev.arg(t, i)); typ != "Buffer" {
						t.Errorf("argument %d arrived as %s, want Buffer", i, typ)
					}
				}
			})

			if s.Transport() != transport {
				t.Errorf("the socket moved to %s", s.Transport())
			}
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
			reg.gone.none(t, 0, "disconnection")
		})
	}
}
