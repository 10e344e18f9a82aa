package interop

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"switchboard/socketio/parser"
)

// The Socket.IO decoder side by side with the reference one (npm
// socket.io-parser, js/parser.mjs): valid packets of every type and
// thousands of mutations of them (a fixed seed), fed to both; what each
// decodes (type, namespace, ack id, data with its binary attachments) or
// refuses must agree, but for the cases where ours is stricter on purpose
// (parser.Decoder.DecodeText lists them), which are counted and must stay
// in their classes.

// parserSeeds are valid cases: the messages of one packet (binary
// attachments as []byte).
var parserSeeds = [][]any{
	{`0`}, {`0{}`}, {`0/admin,{"token":"x"}`}, {`0/admin`},
	{`1`}, {`1/admin,`},
	{`2["a"]`}, {`2["a",1,{"b":[true,null,-1.5e3]},"é💬\u2028"]`}, {`21["a"]`}, {`2/admin,3["a"]`}, {`2[7,"n"]`},
	{`3[]`}, {`31["x"]`}, {`3/admin,12[{"ok":true}]`},
	{`4{"message":"m"}`}, {`4"err"`}, {`4/admin,{"message":"m","data":{"x":1}}`},
	{`51-["a",{"_placeholder":true,"num":0}]`, []byte{1, 2, 3}},
	{`52-/x,7["a",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`, []byte{1}, []byte{}},
	{`61-5[{"_placeholder":true,"num":0}]`, []byte{9}},
}

// jsonEdges are JSON texts, valid and not, where parsers part ways.
var jsonEdges = []string{
	`0`, `-0`, `01`, `-01`, `1.`, `.5`, `1.5e`, `1e+`, `1E5`, `-`, `+1`, `1e400`, `-1e-400`, `123456789012345678901234567890`,
	`NaN`, `Infinity`, `-Infinity`, `true`, `tru`, `truex`, `null`, `nul`, `False`,
	`""`, `"\u0000"`, `"\ud800"`, `"\udc00\ud800"`, `"\u00"`, `"\uGGGG"`, `"\x41"`, `"\'"`, `"\/"`,
	"\"a\tb\"", "\"a\nb\"", "\"a\x7fb\"", "\"\x01\"",
	`"é"`, `"\u2028\u2029"`, "\"\u2028\"",
	`[]`, `[1,]`, `[,1]`, `[1 2]`, `{}`, `{"a":1,}`, `{"a" 1}`, `{a:1}`, `{"a":1,"a":2}`, `{"__proto__":{"x":1}}`, `{"":0}`,
	`[` + strings.Repeat(`[`, 500) + strings.Repeat(`]`, 500) + `]`,
	"\t1\n", ` [ 1 , { "a" : [ ] } ] `, "\v1", "\f1", "\u00a01", "\ufeff1",
}

// mutate changes text 1–3 times: a character inserted, deleted, replaced
// or a stretch doubled, from characters that matter to the grammar.
func mutate(r *rand.Rand, text string) string {
	const alphabet = "0123456789-/,[]{}\":_ \tabentrulé"
	b := []rune(text)
	for range 1 + r.IntN(3) {
		i := r.IntN(len(b) + 1)
		c := []rune(alphabet)[r.IntN(utf8.RuneCountInString(alphabet))]
		switch r.IntN(4) {
		case 0:
			b = append(b[:i], append([]rune{c}, b[i:]...)...)
		case 1:
			if i < len(b) {
				b = append(b[:i], b[i+1:]...)
			}
		case 2:
			if i < len(b) {
				b[i] = c
			}
		case 3:
			j := i + r.IntN(4)
			if j <= len(b) {
				b = append(b[:j], append(append([]rune{}, b[i:j]...), b[j:]...)...)
			}
		}
	}
	return string(b)
}

// decodeResult is what a decoder made of one case.
type decodeResult struct {
	Packets []decodedPacket `json:"packets"`
	Error   *string         `json:"error"`
	Pending bool            `json:"pending"`
}

type decodedPacket struct {
	Type int    `json:"type"`
	Nsp  string `json:"nsp"`
	ID   any    `json:"id"`
	Data any    `json:"data"`
}

// ourDecode decodes a case with parser.Decoder, in the reference decoder's
// terms: binary packets as EVENT and ACK with their attachments in data.
func ourDecode(msgs []any) decodeResult {
	var d parser.Decoder
	var res decodeResult
	for i, m := range msgs {
		var p *parser.Packet
		var err error
		switch m := m.(type) {
		case string:
			p, err = d.DecodeText([]byte(m))
		case []byte:
			p, err = d.DecodeBinary(m)
		}
		if err != nil {
			s := err.Error()
			res.Error = &s
			return res
		}
		if p == nil {
			res.Pending = i == len(msgs)-1 // waiting for attachments
			continue
		}
		dp := decodedPacket{Type: int(p.Type), Nsp: p.Namespace}
		switch p.Type {
		case parser.BinaryEvent:
			dp.Type = int(parser.Event)
		case parser.BinaryAck:
			dp.Type = int(parser.Ack)
		}
		if p.HasID {
			dp.ID = float64(p.ID)
		}
		if p.Data != nil {
			dec := json.NewDecoder(bytes.NewReader(p.Data))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				dp.Data = "unparsable: " + string(p.Data)
			} else {
				dp.Data = withAttachments(jsNumbers(v), p.Attachments)
			}
		}
		res.Packets = append(res.Packets, dp)
	}
	return res
}

// jsNumbers turns JSON numbers into what JSON.parse then JSON.stringify
// make of them: float64, and null for those out of range (Infinity).
func jsNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil
		}
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = jsNumbers(x)
		}
	case []any:
		for i := range v {
			v[i] = jsNumbers(v[i])
		}
	}
	return v
}

// withAttachments replaces placeholders by {"$bin": base64}, as the
// reference side reports reconstructed buffers.
func withAttachments(v any, atts [][]byte) any {
	switch v := v.(type) {
	case map[string]any:
		if v["_placeholder"] == true {
			if n, ok := v["num"].(float64); ok && n >= 0 && int(n) < len(atts) && float64(int(n)) == n {
				return map[string]any{"$bin": base64.StdEncoding.EncodeToString(atts[int(n)])}
			}
		}
		for k, x := range v {
			v[k] = withAttachments(x, atts)
		}
	case []any:
		for i := range v {
			v[i] = withAttachments(v[i], atts)
		}
	}
	return v
}

func TestDecoderAgreesWithTheReferenceDecoder(t *testing.T) {
	requireNode(t)
	cmd := exec.Command(nodeBin, "js/parser.mjs")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
		if t.Failed() && stderr.String() != "" {
			t.Logf("parser.mjs stderr:\n%s", stderr.String())
		}
	})
	lines := bufio.NewScanner(stdout)
	lines.Buffer(nil, 1<<20)
	if !lines.Scan() || !strings.Contains(lines.Text(), "ready") {
		t.Fatalf("parser.mjs did not start: %s", stderr.String())
	}
	reference := func(msgs []any) decodeResult {
		var wire []map[string]string
		for _, m := range msgs {
			switch m := m.(type) {
			case string:
				wire = append(wire, map[string]string{"t": m})
			case []byte:
				wire = append(wire, map[string]string{"b": base64.StdEncoding.EncodeToString(m)})
			}
		}
		b, _ := json.Marshal(map[string]any{"msgs": wire})
		if _, err := stdin.Write(append(b, '\n')); err != nil {
			t.Fatalf("writing to parser.mjs: %v", err)
		}
		if !lines.Scan() {
			t.Fatalf("parser.mjs ended: %s", stderr.String())
		}
		var res decodeResult
		if err := json.Unmarshal(lines.Bytes(), &res); err != nil {
			t.Fatalf("parser.mjs: %v: %s", err, lines.Text())
		}
		return res
	}

	r := rand.New(rand.NewPCG(1, 2))
	cases := append([][]any(nil), parserSeeds...)
	// JSON at its edges, valid and not, as an event's argument.
	for _, v := range jsonEdges {
		cases = append(cases, []any{`2["a",` + v + `]`})
	}
	for range 20000 {
		seed := parserSeeds[r.IntN(len(parserSeeds))]
		c := append([]any{mutate(r, seed[0].(string))}, seed[1:]...)
		cases = append(cases, c)
	}
	classes := map[string]int{}
	var unexpected []string
	for _, c := range cases {
		ref, ours := reference(c), ourDecode(c)
		if reflect.DeepEqual(normalizeResult(ref), normalizeResult(ours)) {
			continue
		}
		class := stricterOnPurpose(c[0].(string), ref, ours)
		if class == "" {
			if len(unexpected) < 20 {
				a, _ := json.Marshal(ref)
				b, _ := json.Marshal(ours)
				unexpected = append(unexpected, fmt.Sprintf("%q\n    reference: %s\n    ours:      %s", c[0], a, b))
			}
			classes["unexpected"]++
			continue
		}
		classes[class]++
	}
	t.Logf("%d cases; differences by class: %v", len(cases), classes)
	if len(unexpected) > 0 {
		t.Errorf("%d cases decoded differently from the reference decoder, first ones:\n%s", classes["unexpected"], strings.Join(unexpected, "\n"))
	}
}

// normalizeResult keeps what must agree: the packets, or that the case was
// refused (not the error's words), or still waiting for attachments.
func normalizeResult(r decodeResult) decodeResult {
	if r.Error != nil {
		return decodeResult{Error: new(string)}
	}
	if len(r.Packets) == 0 {
		return decodeResult{Pending: r.Pending}
	}
	b, _ := json.Marshal(r.Packets)
	var packets []decodedPacket
	_ = json.Unmarshal(b, &packets)
	return decodeResult{Packets: packets, Pending: r.Pending}
}

// stricterOnPurpose names the documented class of a case that the
// reference decoder accepts and ours refuses, or "".
func stricterOnPurpose(text string, ref, ours decodeResult) string {
	// JavaScript's Number() reads "" and whitespace as 0: the reference
	// takes an empty or blank type as CONNECT, and whitespace before the
	// payload as ack id 0.
	if ref.Error == nil && ours.Error == nil && len(ref.Packets) == 1 && len(ours.Packets) == 1 &&
		ref.Packets[0].ID == float64(0) && ours.Packets[0].ID == nil && strings.ContainsAny(text, " \t\n\r") {
		p, q := ref.Packets[0], ours.Packets[0]
		p.ID = nil
		if reflect.DeepEqual(normalizeResult(decodeResult{Packets: []decodedPacket{p}}), normalizeResult(decodeResult{Packets: []decodedPacket{q}})) {
			return "ack id: whitespace read as 0"
		}
	}
	if ref.Error != nil || ours.Error == nil {
		return ""
	}
	msg := *ours.Error
	header := text
	if i := strings.IndexAny(text, `[{"`); i >= 0 {
		header = text[:i]
	}
	switch {
	case text == "" || strings.TrimLeft(text[:1], " \t\n\r") == "":
		return "type: empty or whitespace read as 0"
	case strings.ContainsAny(header, " \t\n\r"):
		// " 1", "1\t2": the reference reads the ack id with Number(),
		// which skips or reads whitespace as 0.
		return "ack id: whitespace in the header"
	case strings.Contains(msg, "without payload"):
		// The reference passes EVENT, ACK and CONNECT_ERROR packets
		// without payload on unchecked.
		return "payload: " + msg[strings.LastIndex(msg, ": ")+2:]
	case strings.Contains(msg, "attachment count"):
		// "1e0", "0x1": the reference reads the count with Number().
		return "attachments: " + msg[strings.LastIndex(msg, ": ")+2:]
	case strings.Contains(msg, "ack id does not fit"):
		// The reference rounds it to a float.
		return "ack id: too large"
	}
	return ""
}
