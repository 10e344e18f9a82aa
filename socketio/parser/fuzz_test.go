package parser

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzDecodeText(f *testing.F) {
	for _, c := range wireCases {
		f.Add([]byte(c.wire))
	}
	for _, s := range []string{"", "5", "51-", `2["connect"]`, `2[]`, `29223372036854775808["a"]`, "2[\"\xff\"]",
		`52-["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`, `51-["a",{"_placeholder":true,"num":0.5}]`,
		`2["a",{"b":[1,2,{"c":null}]},-1.5e3,true]`, `4"x"`, `1/a,`, `0/a{}`, "2 [\"a\"] "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		in := bytes.Clone(msg)
		var d Decoder
		p, err := d.DecodeText(in)
		// Feed one-byte attachments until the packet completes.
		for k := 0; p == nil && err == nil; k++ {
			if k > DefaultMaxAttachments {
				t.Fatal("packet not complete after the maximum number of attachments")
			}
			p, err = d.DecodeBinary([]byte{byte(k)})
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error does not wrap ErrInvalidPacket: %v", err)
			}
			return
		}
		checkDecoded(t, p)

		// The packet does not alias the input.
		clear(in)
		var d0 Decoder
		p0, err := decode(&d0, string(msg), p.Attachments...)
		if err != nil || p0 == nil || !samePacket(p, p0) {
			t.Fatalf("packet changed with its input: %s, fresh decode %s, %v", show(p), show(p0), err)
		}

		// What AppendText writes decodes to an equal packet.
		wire := p.AppendText(nil)
		var d2 Decoder
		q, err := decode(&d2, string(wire), p.Attachments...)
		if err != nil || q == nil {
			t.Fatalf("re-decoding %q (from %q): %s, %v", wire, msg, show(q), err)
		}
		if !samePacket(p, q) {
			t.Fatalf("round trip of %q through %q: %s != %s", msg, wire, show(p), show(q))
		}
	})
}

// checkDecoded checks the promises the Packet documentation makes about
// decoded packets.
func checkDecoded(t *testing.T, p *Packet) {
	t.Helper()
	if p.Type > BinaryAck {
		t.Fatalf("type %d", p.Type)
	}
	if !strings.HasPrefix(p.Namespace, "/") || strings.Contains(p.Namespace, ",") || !utf8.ValidString(p.Namespace) {
		t.Fatalf("namespace %q", p.Namespace)
	}
	if p.ID < 0 || (!p.HasID && p.ID != 0) {
		t.Fatalf("id %d/%v", p.ID, p.HasID)
	}
	if p.Data != nil && (!json.Valid(p.Data) || !bytes.Equal(trimSpace(p.Data), p.Data) || !utf8.Valid(p.Data)) {
		t.Fatalf("data %q", p.Data)
	}
	if p.Data == nil && p.Type != Connect && p.Type != Disconnect {
		t.Fatalf("%s without data", p.Type)
	}
	if len(p.Attachments) > 0 && !p.Type.binary() {
		t.Fatalf("%s with attachments", p.Type)
	}
}

func FuzzSplitArray(f *testing.F) {
	for _, s := range jsonCorners {
		f.Add([]byte(s))
	}
	for _, s := range []string{`["chat message","hello"]`, ` [ "a" , 1 ,{"b":[1,2]}, [ ],null ] `, `[[1,[2]],{"x":"]"}]`, `["a,b","c\"]"]`, `[[2e400]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		elems, err := SplitArray(nil, data)
		trimmed := trimSpace(data)
		isArray := json.Valid(data) && trimmed[0] == '['
		if !isArray {
			if !errors.Is(err, ErrInvalidPacket) || len(elems) != 0 {
				t.Fatalf("%q is not a JSON array: got %q, %v", data, elems, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		var want []any
		if err := unmarshalNumbers(data, &want); err != nil {
			t.Fatalf("encoding/json cannot decode %q: %v", data, err)
		}
		if len(elems) != len(want) {
			t.Fatalf("%q: %d elements, encoding/json sees %d", data, len(elems), len(want))
		}
		for i, e := range elems {
			var got any
			if !bytes.Equal(trimSpace(e), e) || unmarshalNumbers(e, &got) != nil || !reflect.DeepEqual(got, want[i]) {
				t.Fatalf("%q: element %d is %q, want %v", data, i, e, want[i])
			}
		}
	})
}

// unmarshalNumbers is json.Unmarshal keeping numbers as written
// (json.Number): JSON allows numbers beyond float64 (JavaScript reads 1e400
// as Infinity), which a float64 cannot hold.
func unmarshalNumbers(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	return d.Decode(v)
}

// stringify is an obviously correct model of AppendString: JSON.stringify's
// escaping, rune by rune, with Go's reading of invalid UTF-8.
func stringify(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "chat message", `a"b\c`, "\b\f\n\r\t\x00\x1f\x7f", "<>&\u2028\u2029", "héllo 世界 💬",
		"a\xffb", "\xed\xa0\x80", "\xe4\xb8", "\uFFFD"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := AppendString([]byte("x"), s)[1:]
		if !json.Valid(out) {
			t.Fatalf("%q: invalid JSON %q", s, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatal(err)
		}
		if want := string([]rune(s)); got != want {
			t.Fatalf("%q: decodes to %q, want %q", s, got, want)
		}
		if want := stringify(s); string(out) != want {
			t.Fatalf("%q: wrote %q, JSON.stringify writes %q", s, out, want)
		}
		if u, err := UnquoteString(out); err != nil || u != got {
			t.Fatalf("%q: UnquoteString gives %q, %v", out, u, err)
		}
	})
}

func FuzzScannerAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range jsonCorners {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := validJSON(data), json.Valid(data); got != want {
			t.Fatalf("%q: valid %v, encoding/json says %v", data, got, want)
		}
	})
}

func FuzzReplacePlaceholders(f *testing.F) {
	for _, s := range []string{`["up",{"_placeholder":true,"num":1},{"files":[{"_placeholder":true,"num":0}]}]`,
		`{"_placeholder":true,"num":2}`, `[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":9}}]`,
		`[{"\u005fplaceholder":true,"num":1e0}]`, `[{"_placeholder":true,"num":3}]`, `[1,2]`} {
		f.Add([]byte(s))
	}
	attachments := [][]byte{{0}, {1, 2}, []byte("three")}
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, err := ReplacePlaceholders(raw, attachments)
		if err != nil {
			if !errors.Is(err, ErrInvalidPacket) {
				t.Fatalf("error does not wrap ErrInvalidPacket: %v", err)
			}
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q: invalid JSON %q", raw, out)
		}
		if num, ok := IsPlaceholder(raw); ok {
			var b []byte
			if err := json.Unmarshal(out, &b); err != nil || !bytes.Equal(b, attachments[num]) {
				t.Fatalf("%q: whole placeholder became %q", raw, out)
			}
		}
		// Nothing is left to replace.
		again, err := ReplacePlaceholders(out, nil)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("%q: second pass on %q gives %q, %v", raw, out, again, err)
		}
	})
}
