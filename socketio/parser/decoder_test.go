package parser

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestDecodeTextRejectsEmptyMessage(t *testing.T) {
	mustReject(t, nil, "")
}

func TestDecodeTextRejectsUnknownPacketType(t *testing.T) {
	for _, in := range []string{"7", "9", "999", "a", "/", " 2[\"a\"]", "-1"} {
		mustReject(t, nil, in)
	}
}

func TestDecodeTextRejectsInvalidUTF8(t *testing.T) {
	mustReject(t, nil, "2[\"\xff\"]")
	mustReject(t, nil, "2/\xc3,[\"a\"]")
	mustReject(t, nil, "2[\"\xed\xa0\x80\"]") // an encoded surrogate is not UTF-8
}

func TestDecodeTextAcceptsConnectWithoutPayloadOrWithAnObject(t *testing.T) {
	for _, in := range []string{"0", "0/admin,", `0{}`, `0/admin,{"token":"123"}`} {
		mustDecode(t, in)
	}
}

func TestDecodeTextRejectsConnectPayloadThatIsNotAnObject(t *testing.T) {
	for _, in := range []string{`0[]`, `0/admin,"invalid"`, `0null`, `0true`, `0/admin,[{}]`, `0 `} {
		mustReject(t, nil, in)
	}
}

func TestDecodeTextRejectsDisconnectWithPayload(t *testing.T) {
	for _, in := range []string{`1/admin,{}`, `1{}`, `1"bye"`, `1[]`, `1garbage`, `1 `} {
		mustReject(t, nil, in)
	}
}

func TestDecodeTextAcceptsConnectErrorStringOrObject(t *testing.T) {
	mustDecode(t, `4"Unauthorized"`)
	mustDecode(t, `4/admin,{"message":"Unauthorized","data":{"code":1}}`)
}

func TestDecodeTextRejectsConnectErrorThatIsNeitherStringNorObject(t *testing.T) {
	for _, in := range []string{`4[]`, `4true`, `4null`, `4 1`, `4`} {
		mustReject(t, nil, in)
	}
}

func TestDecodeTextRejectsEventPayloadThatIsNotAnArray(t *testing.T) {
	for _, in := range []string{`2{}`, `2/admin,{}`, `2"foo"`, `2null`, `51-{"_placeholder":true,"num":0}`} {
		mustReject(t, nil, in, []byte{1})
	}
}

func TestDecodeTextRejectsEventWithEmptyArray(t *testing.T) {
	mustReject(t, nil, `2[]`)
	mustReject(t, nil, `2[ ]`)
	mustReject(t, nil, `50-[]`)
}

func TestDecodeTextRejectsEventNameThatIsNeitherStringNorNumber(t *testing.T) {
	for _, in := range []string{`2[true,"foo"]`, `2[null,"bar"]`, `2[{"toString":"foo"}]`, `2[["a"]]`,
		`51-[{"_placeholder":true,"num":0}]`} {
		mustReject(t, nil, in, []byte{1})
	}
}

func TestDecodeTextAcceptsNumericEventName(t *testing.T) {
	for _, in := range []string{`2[1,"a"]`, `2[-1.5e3]`, `2[0]`, `2[ 7 ]`} {
		mustDecode(t, in)
	}
}

func TestDecodeTextRejectsReservedEventNames(t *testing.T) {
	for _, name := range []string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"} {
		mustReject(t, nil, `2["`+name+`"]`)
		mustReject(t, nil, `2/admin,1["`+name+`","arg"]`)
		mustReject(t, nil, `51-["`+name+`",{"_placeholder":true,"num":0}]`, []byte{1})
	}
	// JSON escapes do not hide a reserved name: JSON.parse sees "connect".
	mustReject(t, nil, `2["conn\u0065ct"]`)
	mustReject(t, nil, `2["\u0064isconnect",1]`)
}

func TestDecodeTextAcceptsNamesThatOnlyResembleReservedOnes(t *testing.T) {
	for _, name := range []string{"Connect", "connect ", "connection", "message", "disconnected", `connect\n`, ""} {
		mustDecode(t, `2["`+name+`"]`)
	}
}

func TestDecodeTextAcceptsEmptyAckArray(t *testing.T) {
	p := mustDecode(t, `3/admin,12[]`)
	if p.Type != Ack || string(p.Data) != "[]" || p.ID != 12 {
		t.Fatalf("got %s", show(p))
	}
}

func TestDecodeTextRejectsAckPayloadThatIsNotAnArray(t *testing.T) {
	for _, in := range []string{`3{}`, `31"a"`, `31null`, `61-1{"_placeholder":true,"num":0}`} {
		mustReject(t, nil, in, []byte{1})
	}
}

func TestDecodeTextRejectsEventAckAndConnectErrorWithoutPayload(t *testing.T) {
	// The reference decoder skips payload validation when there is no
	// payload; the protocol says the payload is mandatory for these types.
	for _, in := range []string{`2`, `212`, `2/admin,`, `2/admin,5`, `3`, `31`, `4`, `4/admin,`, `51-`, `61-1`} {
		mustReject(t, nil, in, []byte{1})
	}
}

func TestDecodeTextRejectsInvalidJSON(t *testing.T) {
	for _, in := range []string{`442["some","data"`, `2/admin,"invalid`, `2["a",]`, `2["a"]x`, `2["a"]]`,
		`2[01]`, `2["a"` + "\n" + `"b"]`, `2["a\x01"]`, `2["\x"]`, `2["\u12G4"]`, `2[1.]`, `2[1e]`, `2[-]`,
		`2[tru]`, `2["a",nul]`, `2['a']`, `2["a",{a:1}]`, `2["a",{"a" 1}]`, `2["a",{"a":1,}]`, `2[NaN]`} {
		mustReject(t, nil, in)
	}
}

func TestDecodeTextRejectsNonNumericAckID(t *testing.T) {
	// From the conformance suite: the id is not digits, so it is read as the
	// start of the payload, which is not JSON.
	mustReject(t, nil, `2abc["message-with-ack",1,"2",{"3":[false]}]`)
	mustReject(t, nil, `2-1["a"]`)
}

func TestDecodeTextRejectsAckIDThatOverflowsInt64(t *testing.T) {
	mustReject(t, nil, `29223372036854775808["a"]`)
	mustReject(t, nil, `2/admin,99999999999999999999999999["a"]`)
}

func TestDecodeTextRejectsNonNumericAttachmentCount(t *testing.T) {
	for _, in := range []string{`5`, `5-["a"]`, `5a-["a"]`, `51.23-["a"]`, `5 1-["a"]`, `5-1-["a"]`, `6x-1[]`} {
		mustReject(t, nil, in)
	}
}

func TestDecodeTextRejectsAttachmentCountWithoutDash(t *testing.T) {
	mustReject(t, nil, `51`)
	mustReject(t, nil, `51["a",{"_placeholder":true,"num":0}]`)
	mustReject(t, nil, `61/admin,1[]`)
}

func TestDecodeTextRejectsTooManyAttachments(t *testing.T) {
	mustReject(t, nil, `511-["a"]`)
	mustReject(t, nil, `599999999999999999999999999999-["a"]`)
	d := &Decoder{MaxAttachments: 2}
	mustReject(t, d, `53-["hello",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1},{"_placeholder":true,"num":2}]`)
}

func TestDecodeTextAcceptsUpToMaxAttachments(t *testing.T) {
	var att [][]byte
	for i := range DefaultMaxAttachments {
		att = append(att, []byte{byte(i)})
	}
	p := mustDecode(t, `510-["a"]`, att...)
	if len(p.Attachments) != DefaultMaxAttachments {
		t.Fatalf("got %d attachments", len(p.Attachments))
	}
	d := &Decoder{MaxAttachments: 11}
	if _, err := decode(d, `511-["a"]`, append(att, []byte{10})...); err != nil {
		t.Fatalf("MaxAttachments 11: %v", err)
	}
}

func TestDecodeBinaryReassemblesInOrder(t *testing.T) {
	var d Decoder
	p, err := d.DecodeText([]byte(`52-["pair",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]`))
	if p != nil || err != nil {
		t.Fatalf("text: %s, %v", show(p), err)
	}
	if p, err = d.DecodeBinary([]byte("first")); p != nil || err != nil {
		t.Fatalf("first attachment: %s, %v", show(p), err)
	}
	if p, err = d.DecodeBinary([]byte("second")); p == nil || err != nil {
		t.Fatalf("second attachment: %s, %v", show(p), err)
	}
	if p.Type != BinaryEvent || string(p.Attachments[0]) != "first" || string(p.Attachments[1]) != "second" {
		t.Fatalf("got %s", show(p))
	}
	// The decoder is ready for the next packet.
	if p, err = d.DecodeText([]byte(`2["next"]`)); p == nil || err != nil {
		t.Fatalf("next: %s, %v", show(p), err)
	}
}

func TestDecodeTextRejectsBinaryPacketWithZeroAttachments(t *testing.T) {
	// The reference decoder (socket.io-parser 4.2.7) refuses a count below 1
	// ("Illegal attachments"), and the official client with it.
	for _, in := range []string{`50-["a"]`, `60-[]`, `500-["a"]`, `50-["a",{"_placeholder":true,"num":0}]`} {
		mustReject(t, nil, in)
	}
	// The decoder is not left waiting: the next packet decodes normally.
	var d Decoder
	if _, err := d.DecodeText([]byte(`50-["a"]`)); err == nil {
		t.Fatal("50- accepted")
	}
	if p, err := d.DecodeText([]byte(`2["b"]`)); err != nil || p == nil {
		t.Fatalf("next: %s, %v", show(p), err)
	}
}

func TestDecodeTextRejectsTextWhileAttachmentsAreExpected(t *testing.T) {
	var d Decoder
	if p, err := decode(&d, `52-["a",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, []byte{1}); p != nil || err != nil {
		t.Fatalf("first half: %s, %v", show(p), err)
	}
	if _, err := d.DecodeText([]byte(`2["b"]`)); !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("want ErrInvalidPacket, got %v", err)
	}
	// The error dropped the partial packet.
	if p, err := d.DecodeText([]byte(`2["c"]`)); err != nil || p == nil {
		t.Fatalf("after error: %s, %v", show(p), err)
	}
}

func TestDecodeBinaryRejectsBinaryWhenNoneIsExpected(t *testing.T) {
	var d Decoder
	if _, err := d.DecodeBinary([]byte{1}); !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("fresh decoder: %v", err)
	}
	if _, err := decode(&d, `51-["a",{"_placeholder":true,"num":0}]`, []byte{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.DecodeBinary([]byte{2}); !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("extra attachment: %v", err)
	}
	mustDecodeWith(t, &d, `2["a"]`)
	if _, err := d.DecodeBinary([]byte{1}); !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("attachment after a text packet: %v", err)
	}
}

func TestDecodeBinaryRejectsPlaceholderNumOutOfRange(t *testing.T) {
	mustReject(t, nil, `51-["a",{"_placeholder":true,"num":1}]`, []byte{1})
	mustReject(t, nil, `52-["a",{"x":[{"_placeholder":true,"num":2}]}]`, []byte{1}, []byte{2})
	mustReject(t, nil, `51-["a",{"_placeholder":true,"num":-1}]`, []byte{1})
	mustReject(t, nil, `51-["a",{"_placeholder":true,"num":1e40}]`, []byte{1})
}

func TestDecodeBinaryRejectsPlaceholderNumThatIsNotAnInteger(t *testing.T) {
	for _, num := range []string{`0.5`, `"0"`, `null`, `true`, `[0]`, `{}`} {
		mustReject(t, nil, `51-["a",{"_placeholder":true,"num":`+num+`}]`, []byte{1})
	}
	mustReject(t, nil, `51-["a",{"_placeholder":true}]`, []byte{1})
}

func TestDecodeBinaryAcceptsPlaceholderNumsJavaScriptReadsAsIntegers(t *testing.T) {
	for _, num := range []string{`0`, `0.0`, `0e5`, `-0`, `1e0`, `10E-1`} {
		p := mustDecode(t, `52-["a",{"_placeholder":true,"num":`+num+`}]`, []byte{1}, []byte{2})
		if len(p.Attachments) != 2 {
			t.Fatalf("%s: %s", num, show(p))
		}
	}
}

func TestDecodeBinaryFollowsReferencePlaceholderRules(t *testing.T) {
	// Only "_placeholder": true makes a placeholder; other objects that look
	// alike are ordinary data, whatever their num.
	mustDecode(t, `51-["a",{"_placeholder":"true","num":99},{"_placeholder":true,"num":0}]`, []byte{1})
	mustDecode(t, `51-["a",{"_placeholder":1,"num":-3},{"_placeholder":true,"num":0}]`, []byte{1})
	// The last of duplicate members wins, as with JSON.parse.
	mustDecode(t, `51-["a",{"_placeholder":true,"_placeholder":false,"num":9}]`, []byte{1})
	mustReject(t, nil, `51-["a",{"_placeholder":false,"_placeholder":true,"num":9}]`, []byte{1})
	mustDecode(t, `51-["a",{"_placeholder":true,"num":9,"num":0}]`, []byte{1})
	// Escaped member names are the same names.
	mustReject(t, nil, `51-["a",{"\u005fplaceholder":true,"num":9}]`, []byte{1})
	// A placeholder replaces the whole object: what is inside is not looked at.
	mustDecode(t, `51-["a",{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":7}}]`, []byte{1})
	// Placeholders in a packet that is not binary are just data.
	mustDecode(t, `2["a",{"_placeholder":true,"num":5}]`)
}

func TestDecodeTextReadsNamespaceWithOrWithoutTrailingComma(t *testing.T) {
	for _, in := range []string{`0/custom`, `0/custom,`} {
		if p := mustDecode(t, in); p.Namespace != "/custom" || p.Data != nil {
			t.Errorf("%q: %s", in, show(p))
		}
	}
	if p := mustDecode(t, `1/admin,`); p.Type != Disconnect || p.Namespace != "/admin" {
		t.Errorf("disconnect: %s", show(p))
	}
	// Without a comma everything up to the end is the namespace.
	mustReject(t, nil, `2/admin["a"]`)
}

func TestDecodeTextReadsAckIDs(t *testing.T) {
	cases := []struct {
		in    string
		id    int64
		hasID bool
	}{
		{`2["a"]`, 0, false},
		{`20["a"]`, 0, true},
		{`2/admin,12["a"]`, 12, true},
		{`3/admin,0012[]`, 12, true},
		{`61-/x,77[{"_placeholder":true,"num":0}]`, 77, true},
	}
	for _, c := range cases {
		var d Decoder
		var att [][]byte
		if c.in[0] == '6' {
			att = [][]byte{{1}}
		}
		p, err := decode(&d, c.in, att...)
		if err != nil || p == nil || p.HasID != c.hasID || p.ID != c.id {
			t.Errorf("%q: %s, %v", c.in, show(p), err)
		}
	}
}

func TestDecodeTextAcceptsDeeplyNestedJSONUpToEncodingJSONsLimit(t *testing.T) {
	nested := func(depth int) string {
		return strings.Repeat("[", depth) + strings.Repeat("]", depth)
	}
	mustDecode(t, `3`+nested(maxDepth))
	mustReject(t, nil, `3`+nested(maxDepth+1))
	mustDecode(t, `2["deep",`+nested(maxDepth-1)+`]`)
	mustReject(t, nil, `2["deep",`+nested(maxDepth)+`]`)
	objects := strings.Repeat(`{"a":`, maxDepth-1) + "1" + strings.Repeat("}", maxDepth-1)
	mustDecode(t, `2["deep",`+objects+`]`)
	mustDecode(t, `51-["deep",`+strings.Repeat(`{"a":`, maxDepth-2)+`{"_placeholder":true,"num":0}`+strings.Repeat("}", maxDepth-2)+`]`, []byte{1})
}

func TestDecodedPacketDoesNotAliasInput(t *testing.T) {
	var d Decoder
	text := []byte(`51-/ns,7["x",{"_placeholder":true,"num":0}]`)
	bin := []byte{1, 2, 3}
	if _, err := d.DecodeText(text); err != nil {
		t.Fatal(err)
	}
	clear(text)
	p, err := d.DecodeBinary(bin)
	if err != nil || p == nil {
		t.Fatalf("%s, %v", show(p), err)
	}
	clear(bin)
	want := &Packet{Type: BinaryEvent, Namespace: "/ns", ID: 7, HasID: true,
		Data: []byte(`["x",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3}}}
	if !samePacket(p, want) {
		t.Fatalf("got %s, want %s", show(p), show(want))
	}
}

func TestDecodedDataCanBeAppendedToSafely(t *testing.T) {
	var d Decoder
	p, _ := d.DecodeText([]byte(`2["a"]`))
	q, _ := d.DecodeText([]byte(`2["b"]`))
	_ = append(p.Data, "garbage"...)
	if string(p.Data) != `["a"]` || string(q.Data) != `["b"]` || cap(p.Data) != len(p.Data) {
		t.Fatalf("p=%q q=%q", p.Data, q.Data)
	}
}

func TestDecoderResetDropsPartialPacket(t *testing.T) {
	var d Decoder
	if p, err := d.DecodeText([]byte(`51-["a",{"_placeholder":true,"num":0}]`)); p != nil || err != nil {
		t.Fatalf("%s, %v", show(p), err)
	}
	d.Reset()
	if p, err := d.DecodeText([]byte(`2["hello"]`)); err != nil || string(p.Data) != `["hello"]` {
		t.Fatalf("%s, %v", show(p), err)
	}
	if _, err := d.DecodeBinary([]byte{1}); !errors.Is(err, ErrInvalidPacket) {
		t.Fatalf("binary after reset: %v", err)
	}
}

func TestDecoderReusesNamespaceStrings(t *testing.T) {
	var d Decoder
	a := mustDecodeWith(t, &d, `2/chat,["a"]`)
	b := mustDecodeWith(t, &d, `2/chat,["b"]`)
	if a.Namespace != "/chat" || b.Namespace != "/chat" {
		t.Fatalf("%q %q", a.Namespace, b.Namespace)
	}
	msg := []byte(`2/chat,["a"]`)
	allocs := testing.AllocsPerRun(100, func() { _, _ = d.DecodeText(msg) })
	if allocs != 1 {
		t.Fatalf("decoding on a known namespace: %v allocations, want 1", allocs)
	}
}

func mustDecodeWith(tb testing.TB, d *Decoder, text string) *Packet {
	tb.Helper()
	p, err := d.DecodeText([]byte(text))
	if err != nil || p == nil {
		tb.Fatalf("%q: %s, %v", text, show(p), err)
	}
	return p
}

func TestDecodeTextAllocatesOnlyThePacket(t *testing.T) {
	var d Decoder
	for _, in := range []string{
		`2["chat message","hello"]`,
		`2["chat message",{"username":"bench","message":"a message of a more realistic length, say 100 bytes"}]`,
		`0`,
		`3/admin,12[]`,
	} {
		msg := []byte(in)
		_ = mustDecodeWith(t, &d, in) // caches the namespace
		if allocs := testing.AllocsPerRun(100, func() { _, _ = d.DecodeText(msg) }); allocs != 1 {
			t.Errorf("%q: %v allocations, want 1", in, allocs)
		}
	}
}

func TestDecodeTextCopiesLargePayloads(t *testing.T) {
	big := `2["big","` + strings.Repeat("x", 4096) + `"]`
	p := mustDecode(t, big)
	if !bytes.Equal(p.Data, []byte(big[1:])) {
		t.Fatal("payload differs")
	}
}
