package parser

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// validJSON reports whether b is exactly one JSON value with optional
// surrounding whitespace, according to the package's own scanner.
func validJSON(b []byte) bool {
	s := scanner{data: b}
	return s.whole() == nil
}

// jsonCorners are inputs around the edges of the JSON grammar.
var jsonCorners = []string{
	``, ` `, `0`, `-0`, `-`, `01`, `1.`, `.1`, `1.5`, `1e5`, `1E+5`, `1e-5`, `1e`, `1e+`, `-1.5e-3`, `+1`,
	`0x10`, `Infinity`, `NaN`, `1 2`, `true`, `tru`, `truex`, `false`, `null`, `nul`, `"`, `""`, `"a`,
	`"\"`, `"\\"`, `"\/"`, `"\b\f\n\r\t"`, `"\u0041"`, `"\u004"`, `"\u00G1"`, `"\x"`, `"\'"`, "\"\x01\"",
	"\"\x7f\"", "\"\xff\"", `"é"`, `[]`, `[ ]`, `[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1,,2]`, `[[[]]]`,
	`{}`, `{ }`, `{"a":1}`, `{"a":1,}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a" 1}`, `{1:1}`, `{"a":1 "b":2}`,
	`{"a":[{"b":null}]}`, "\t\n\r [1] \r\n\t", "\f[1]", "\v[1]", "[1]\x00", `[1]]`, `{}}`, `"a""b"`,
	`[true,false,null]`, `[-]`, `[-a]`, `["a":1]`, `{"a":1]`, `[1}`,
}

func TestScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, in := range jsonCorners {
		if got, want := validJSON([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("%q: valid %v, encoding/json says %v", in, got, want)
		}
	}
}

func TestSplitArrayReturnsTrimmedElements(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`["chat message","hello"]`, []string{`"chat message"`, `"hello"`}},
		{` [ "a" , 1 ,{"b":[1,2]}, [ ],null,true, -1.5e3 ] `, []string{`"a"`, `1`, `{"b":[1,2]}`, `[ ]`, `null`, `true`, `-1.5e3`}},
		{`[[1,[2]],{"x":"]"}]`, []string{`[1,[2]]`, `{"x":"]"}`}},
		{`["a,b","c\"]"]`, []string{`"a,b"`, `"c\"]"`}},
	}
	for _, c := range cases {
		got, err := SplitArray(nil, []byte(c.in))
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
			continue
		}
		for i := range got {
			if string(got[i]) != c.want[i] {
				t.Errorf("%q: element %d is %q, want %q", c.in, i, got[i], c.want[i])
			}
			if cap(got[i]) != len(got[i]) {
				t.Errorf("%q: element %d has spare capacity", c.in, i)
			}
		}
	}
}

func TestSplitArrayAppendsToDst(t *testing.T) {
	dst := [][]byte{[]byte("keep")}
	dst, err := SplitArray(dst, []byte(`[1,2]`))
	if err != nil || len(dst) != 3 || string(dst[0]) != "keep" || string(dst[2]) != "2" {
		t.Fatalf("%q, %v", dst, err)
	}
}

func TestSplitArrayRejectsNonArraysAndInvalidJSON(t *testing.T) {
	for _, in := range []string{``, ` `, `{}`, `"a"`, `1`, `null`, `[`, `[1,]`, `[1] x`, `[1`, `[1,2`, `["a`, `[1}`, `[1][2]`} {
		dst := [][]byte{[]byte("keep")}
		got, err := SplitArray(dst, []byte(in))
		if !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%q: want ErrInvalidPacket, got %v", in, err)
		}
		if len(got) != 1 {
			t.Errorf("%q: dst changed to %q", in, got)
		}
	}
}

func TestSplitArrayDoesNotAllocateIntoARoomyDst(t *testing.T) {
	data := []byte(`["chat message",{"username":"bench","message":"hello"},3]`)
	dst := make([][]byte, 0, 8)
	if allocs := testing.AllocsPerRun(100, func() { dst, _ = SplitArray(dst[:0], data) }); allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

func TestIsPlaceholderRecognisesPlaceholderObjects(t *testing.T) {
	cases := []struct {
		in  string
		num int
		ok  bool
	}{
		{`{"_placeholder":true,"num":0}`, 0, true},
		{` { "num" : 3 , "_placeholder" : true } `, 3, true},
		{`{"_placeholder":true,"num":2,"extra":[1]}`, 2, true},
		{`{"_placeholder":true,"num":1e0}`, 1, true},
		{`{"\u005fplaceholder":true,"n\u0075m":4}`, 4, true},
		{`{"_placeholder":true,"num":-1}`, 0, false},
		{`{"_placeholder":true,"num":0.5}`, 0, false},
		{`{"_placeholder":true,"num":"0"}`, 0, false},
		{`{"_placeholder":true,"num":1e10}`, 0, false},
		{`{"_placeholder":true}`, 0, false},
		{`{"_placeholder":false,"num":0}`, 0, false},
		{`{"_placeholder":"true","num":0}`, 0, false},
		{`{"_placeholder":true,"num":0`, 0, false},
		{`{"a":{"_placeholder":true,"num":0}}`, 0, false},
		{`[{"_placeholder":true,"num":0}]`, 0, false},
		{`"_placeholder"`, 0, false},
		{`{}`, 0, false},
		{``, 0, false},
	}
	for _, c := range cases {
		num, ok := IsPlaceholder([]byte(c.in))
		if num != c.num || ok != c.ok {
			t.Errorf("%q: got %d, %v; want %d, %v", c.in, num, ok, c.num, c.ok)
		}
	}
}

func TestIsPlaceholderDoesNotAllocate(t *testing.T) {
	raw := []byte(`{"_placeholder":true,"num":0}`)
	if allocs := testing.AllocsPerRun(100, func() { IsPlaceholder(raw) }); allocs != 0 {
		t.Fatalf("%v allocations", allocs)
	}
}

func TestReplacePlaceholdersWritesBase64Strings(t *testing.T) {
	raw := []byte(`["up",{"_placeholder":true,"num":1},{"files":[{"_placeholder":true,"num":0}],"n":2}]`)
	got, err := ReplacePlaceholders(raw, [][]byte{{1, 2, 3, 4}, []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	want := `["up","aGk=",{"files":["AQIDBA=="],"n":2}]`
	if string(got) != want {
		t.Fatalf("got %s, want %s", got, want)
	}
	// encoding/json decodes the strings into []byte.
	var args []json.RawMessage
	if err := json.Unmarshal(got, &args); err != nil {
		t.Fatal(err)
	}
	var v struct {
		Files [][]byte `json:"files"`
	}
	if err := json.Unmarshal(args[2], &v); err != nil || string(v.Files[0]) != "\x01\x02\x03\x04" {
		t.Fatalf("%+v, %v", v, err)
	}
}

func TestReplacePlaceholdersReplacesAWholeValue(t *testing.T) {
	got, err := ReplacePlaceholders([]byte(` {"_placeholder":true,"num":0} `), [][]byte{{}})
	if err != nil || string(got) != ` "" ` {
		t.Fatalf("%q, %v", got, err)
	}
}

func TestReplacePlaceholdersReturnsRawWhenThereIsNone(t *testing.T) {
	raw := []byte(`["a",{"_placeholder":false,"num":0}]`)
	got, err := ReplacePlaceholders(raw, nil)
	if err != nil || &got[0] != &raw[0] || len(got) != len(raw) {
		t.Fatalf("%q, %v", got, err)
	}
}

func TestReplacePlaceholdersRejectsBadPlaceholdersAndInvalidJSON(t *testing.T) {
	for _, in := range []string{
		`[{"_placeholder":true,"num":1}]`,
		`[{"_placeholder":true,"num":-1}]`,
		`[{"_placeholder":true}]`,
		`[{"_placeholder":true,"num":0}`,
		`[1,]`,
	} {
		if _, err := ReplacePlaceholders([]byte(in), [][]byte{{1}}); !errors.Is(err, ErrInvalidPacket) {
			t.Errorf("%q: want ErrInvalidPacket, got %v", in, err)
		}
	}
}

func TestReplacePlaceholdersHandlesManyPlaceholders(t *testing.T) {
	// More placeholders than the inline mark storage holds.
	var b strings.Builder
	var want strings.Builder
	b.WriteString("[")
	want.WriteString("[")
	for i := range 20 {
		if i > 0 {
			b.WriteString(",")
			want.WriteString(",")
		}
		b.WriteString(`{"_placeholder":true,"num":` + string(rune('0'+i%3)) + `}`)
		want.WriteString(`"` + []string{"AA==", "AQ==", "Ag=="}[i%3] + `"`)
	}
	b.WriteString("]")
	want.WriteString("]")
	got, err := ReplacePlaceholders([]byte(b.String()), [][]byte{{0}, {1}, {2}})
	if err != nil || string(got) != want.String() {
		t.Fatalf("got %s, %v\nwant %s", got, err, want.String())
	}
}

func TestAppendRelinkedRenumbersPlaceholdersForTheNewPacket(t *testing.T) {
	raw := []byte(`{"a":{"num":1,"_placeholder":true,"x":[{"_placeholder":true,"num":9}]},"b":[ {"_placeholder":true,"num":0} ],"c":"\u00fc"}`)
	dst, out, err := AppendRelinked([]byte(`[`), raw, [][]byte{{0}, {1}}, [][]byte{{7}})
	if err != nil {
		t.Fatal(err)
	}
	// the placeholder replaces the whole object (inner ones are forgotten,
	// as by the reference parser); everything else is kept byte for byte
	want := `[{"a":{"_placeholder":true,"num":1},"b":[ {"_placeholder":true,"num":2} ],"c":"\u00fc"}`
	if string(dst) != want || len(out) != 3 || out[1][0] != 1 || out[2][0] != 0 {
		t.Fatalf("got %s %v\nwant %s [[7] [1] [0]]", dst, out, want)
	}
	if !ContainsPlaceholder(raw) || ContainsPlaceholder([]byte(`{"_placeholder":false}`)) {
		t.Fatal("ContainsPlaceholder")
	}
}

func TestAppendRelinkedRejectsBadPlaceholders(t *testing.T) {
	for _, in := range []string{`[{"_placeholder":true,"num":1}]`, `[{"_placeholder":true}]`, `[1,]`} {
		dst, out, err := AppendRelinked([]byte("x"), []byte(in), [][]byte{{1}}, nil)
		if !errors.Is(err, ErrInvalidPacket) || string(dst) != "x" || out != nil {
			t.Errorf("%q: %q %v, %v; want ErrInvalidPacket and nothing appended", in, dst, out, err)
		}
	}
}
