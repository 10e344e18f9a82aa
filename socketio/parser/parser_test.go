package parser

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// decode feeds text and then attachments to d and returns what the last call
// returned, or the first error.
func decode(d *Decoder, text string, attachments ...[]byte) (*Packet, error) {
	p, err := d.DecodeText([]byte(text))
	if err != nil {
		return nil, err
	}
	for _, a := range attachments {
		if p != nil {
			return nil, fmt.Errorf("packet complete before attachment %q", a)
		}
		if p, err = d.DecodeBinary(a); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// mustDecode decodes a packet that must be valid and complete.
func mustDecode(tb testing.TB, text string, attachments ...[]byte) *Packet {
	tb.Helper()
	var d Decoder
	p, err := decode(&d, text, attachments...)
	if err != nil {
		tb.Fatalf("decode %q: %v", text, err)
	}
	if p == nil {
		tb.Fatalf("decode %q: packet incomplete", text)
	}
	return p
}

// mustReject checks that decoding text (and attachments) fails with
// ErrInvalidPacket.
func mustReject(tb testing.TB, d *Decoder, text string, attachments ...[]byte) {
	tb.Helper()
	if d == nil {
		d = new(Decoder)
	}
	p, err := decode(d, text, attachments...)
	if !errors.Is(err, ErrInvalidPacket) {
		tb.Errorf("decode %q: want ErrInvalidPacket, got packet %s, error %v", text, show(p), err)
	}
}

func samePacket(a, b *Packet) bool {
	if a.Type != b.Type || a.Namespace != b.Namespace || a.HasID != b.HasID ||
		(a.HasID && a.ID != b.ID) || !bytes.Equal(a.Data, b.Data) ||
		(a.Data == nil) != (b.Data == nil) || len(a.Attachments) != len(b.Attachments) {
		return false
	}
	for i := range a.Attachments {
		if !bytes.Equal(a.Attachments[i], b.Attachments[i]) {
			return false
		}
	}
	return true
}

// show formats a packet for failure messages.
func show(p *Packet) string {
	if p == nil {
		return "<nil>"
	}
	return fmt.Sprintf("{%s ns=%q id=%d/%v data=%q att=%q}", p.Type, p.Namespace, p.ID, p.HasID, p.Data, p.Attachments)
}

// wireCase is a packet and its wire form. decodeOnly marks inputs that decode
// to the packet but are not what AppendText writes for it.
type wireCase struct {
	name        string
	wire        string
	attachments [][]byte
	packet      Packet
	decodeOnly  bool
}

var wireCases = []wireCase{
	// Protocol spec, "Packet encoding" examples.
	{name: "spec connect to main namespace", wire: `0`,
		packet: Packet{Type: Connect, Namespace: "/"}},
	{name: "spec connect to custom namespace with sid", wire: `0/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`,
		packet: Packet{Type: Connect, Namespace: "/admin", Data: []byte(`{"sid":"oSO0OpakMV_3jnilAAAA"}`)}},
	{name: "spec connect error", wire: `4{"message":"Not authorized"}`,
		packet: Packet{Type: ConnectError, Namespace: "/", Data: []byte(`{"message":"Not authorized"}`)}},
	{name: "spec event on main namespace", wire: `2["foo"]`,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["foo"]`)}},
	{name: "spec event on custom namespace", wire: `2/admin,["bar"]`,
		packet: Packet{Type: Event, Namespace: "/admin", Data: []byte(`["bar"]`)}},
	{name: "spec binary event", wire: `51-["baz",{"_placeholder":true,"num":0}]`,
		attachments: [][]byte{{1, 2, 3, 4}},
		packet: Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["baz",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{1, 2, 3, 4}}}},
	{name: "spec binary event with two attachments", wire: `52-/admin,["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`,
		attachments: [][]byte{{1, 2}, {3, 4}},
		packet: Packet{Type: BinaryEvent, Namespace: "/admin",
			Data:        []byte(`["baz",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`),
			Attachments: [][]byte{{1, 2}, {3, 4}}}},
	{name: "spec event with ack id", wire: `212["foo"]`,
		packet: Packet{Type: Event, Namespace: "/", ID: 12, HasID: true, Data: []byte(`["foo"]`)}},
	{name: "spec ack on custom namespace", wire: `3/admin,13["bar"]`,
		packet: Packet{Type: Ack, Namespace: "/admin", ID: 13, HasID: true, Data: []byte(`["bar"]`)}},
	{name: "spec binary ack", wire: `61-15["bar",{"_placeholder":true,"num":0}]`,
		attachments: [][]byte{{1, 2, 3, 4}},
		packet: Packet{Type: BinaryAck, Namespace: "/", ID: 15, HasID: true,
			Data: []byte(`["bar",{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{1, 2, 3, 4}}}},
	{name: "spec disconnect from main namespace", wire: `1`,
		packet: Packet{Type: Disconnect, Namespace: "/"}},
	{name: "spec disconnect from custom namespace", wire: `1/admin,`,
		packet: Packet{Type: Disconnect, Namespace: "/admin"}},

	// Protocol spec, "Sample session".
	{name: "session connect answer with sid", wire: `0{"sid":"wZX3oN0bSVIhsaknAAAI"}`,
		packet: Packet{Type: Connect, Namespace: "/", Data: []byte(`{"sid":"wZX3oN0bSVIhsaknAAAI"}`)}},
	{name: "session event with two strings", wire: `2["hey","Jude"]`,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["hey","Jude"]`)}},
	{name: "session connect request to admin", wire: `0/admin,`,
		packet: Packet{Type: Connect, Namespace: "/admin"}},
	{name: "session event on admin with ack id", wire: `2/admin,1["tellme"]`,
		packet: Packet{Type: Event, Namespace: "/admin", ID: 1, HasID: true, Data: []byte(`["tellme"]`)}},
	{name: "session binary ack on admin", wire: `61-/admin,1[{"_placeholder":true,"num":0}]`,
		attachments: [][]byte{{0xff}},
		packet: Packet{Type: BinaryAck, Namespace: "/admin", ID: 1, HasID: true,
			Data: []byte(`[{"_placeholder":true,"num":0}]`), Attachments: [][]byte{{0xff}}}},

	// The official conformance suite and the reference parser's tests.
	{name: "suite connect with auth", wire: `0{"token":"123"}`,
		packet: Packet{Type: Connect, Namespace: "/", Data: []byte(`{"token":"123"}`)}},
	{name: "suite connect to namespace without trailing comma", wire: `0/custom`, decodeOnly: true,
		packet: Packet{Type: Connect, Namespace: "/custom"}},
	{name: "suite disconnect without trailing comma", wire: `1/custom`, decodeOnly: true,
		packet: Packet{Type: Disconnect, Namespace: "/custom"}},
	{name: "suite event with mixed arguments", wire: `2["message",1,"2",{"3":[true]}]`,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["message",1,"2",{"3":[true]}]`)}},
	{name: "suite event with ack", wire: `2456["message-with-ack",1,"2",{"3":[false]}]`,
		packet: Packet{Type: Event, Namespace: "/", ID: 456, HasID: true, Data: []byte(`["message-with-ack",1,"2",{"3":[false]}]`)}},
	{name: "suite ack", wire: `3456[1,"2",{"3":[false]}]`,
		packet: Packet{Type: Ack, Namespace: "/", ID: 456, HasID: true, Data: []byte(`[1,"2",{"3":[false]}]`)}},
	{name: "suite connect error for unknown namespace", wire: `4/random,{"message":"Invalid namespace"}`,
		packet: Packet{Type: ConnectError, Namespace: "/random", Data: []byte(`{"message":"Invalid namespace"}`)}},
	{name: "parser numeric event name", wire: `2[1,"a",{}]`,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`[1,"a",{}]`)}},
	{name: "parser connect error as string", wire: `4"Unauthorized"`,
		packet: Packet{Type: ConnectError, Namespace: "/", Data: []byte(`"Unauthorized"`)}},
	{name: "parser event with ack on namespace", wire: `2/test,1["a",1,{}]`,
		packet: Packet{Type: Event, Namespace: "/test", ID: 1, HasID: true, Data: []byte(`["a",1,{}]`)}},

	// Corners of the format.
	{name: "empty ack", wire: `37[]`,
		packet: Packet{Type: Ack, Namespace: "/", ID: 7, HasID: true, Data: []byte(`[]`)}},
	{name: "ack id zero", wire: `20["a"]`,
		packet: Packet{Type: Event, Namespace: "/", ID: 0, HasID: true, Data: []byte(`["a"]`)}},
	{name: "largest ack id", wire: `29223372036854775807["a"]`,
		packet: Packet{Type: Event, Namespace: "/", ID: 1<<63 - 1, HasID: true, Data: []byte(`["a"]`)}},
	{name: "ack id with leading zeros", wire: `2007["a"]`, decodeOnly: true,
		packet: Packet{Type: Event, Namespace: "/", ID: 7, HasID: true, Data: []byte(`["a"]`)}},
	{name: "connect with ack id and no payload", wire: `05`,
		packet: Packet{Type: Connect, Namespace: "/", ID: 5, HasID: true}},
	{name: "explicit main namespace", wire: `2/,["a"]`, decodeOnly: true,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["a"]`)}},
	{name: "bare slash namespace", wire: `0/`, decodeOnly: true,
		packet: Packet{Type: Connect, Namespace: "/"}},
	{name: "namespace runs to the end without comma", wire: `0/admin{}`, decodeOnly: true,
		packet: Packet{Type: Connect, Namespace: "/admin{}"}},
	{name: "unicode namespace", wire: `2/ünï/cødé,["a"]`,
		packet: Packet{Type: Event, Namespace: "/ünï/cødé", Data: []byte(`["a"]`)}},
	{name: "unicode payload", wire: `2["💬","héllo 世界","\u2028"]`,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["💬","héllo 世界","\u2028"]`)}},
	{name: "escaped surrogate pair and lone surrogate", wire: `2["\ud83d\udcac","\ud800"]`,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["\ud83d\udcac","\ud800"]`)}},
	{name: "payload surrounded by whitespace", wire: "2 \t[\"a\"]\r\n", decodeOnly: true,
		packet: Packet{Type: Event, Namespace: "/", Data: []byte(`["a"]`)}},
	{name: "binary event with namespace and ack id", wire: `51-/admin,42["up",{"file":{"_placeholder":true,"num":0}}]`,
		attachments: [][]byte{{}},
		packet: Packet{Type: BinaryEvent, Namespace: "/admin", ID: 42, HasID: true,
			Data: []byte(`["up",{"file":{"_placeholder":true,"num":0}}]`), Attachments: [][]byte{{}}}},
	{name: "attachment count with leading zero", wire: `501-["a",{"_placeholder":true,"num":0}]`, decodeOnly: true,
		attachments: [][]byte{{9}},
		packet: Packet{Type: BinaryEvent, Namespace: "/", Data: []byte(`["a",{"_placeholder":true,"num":0}]`),
			Attachments: [][]byte{{9}}}},
}

func TestDecodeMatchesWireExamples(t *testing.T) {
	for _, c := range wireCases {
		t.Run(c.name, func(t *testing.T) {
			got := mustDecode(t, c.wire, c.attachments...)
			if !samePacket(got, &c.packet) {
				t.Fatalf("decoded %s, want %s", show(got), show(&c.packet))
			}
		})
	}
}

func TestAppendTextMatchesWireExamples(t *testing.T) {
	for _, c := range wireCases {
		if c.decodeOnly {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			if got := string(c.packet.AppendText(nil)); got != c.wire {
				t.Fatalf("encoded %q, want %q", got, c.wire)
			}
		})
	}
}

func TestAppendTextAppendsToDst(t *testing.T) {
	p := Packet{Type: Event, Namespace: "/chat", ID: 3, HasID: true, Data: []byte(`["a"]`)}
	if got := string(p.AppendText([]byte("4"))); got != `42/chat,3["a"]` {
		t.Fatalf("got %q", got)
	}
}

func TestAppendTextTreatsEmptyNamespaceAsMain(t *testing.T) {
	p := Packet{Type: Event, Data: []byte(`["a"]`)}
	if got := string(p.AppendText(nil)); got != `2["a"]` {
		t.Fatalf("got %q", got)
	}
}

func TestAppendTextWritesAttachmentCountOnlyForBinaryTypes(t *testing.T) {
	att := [][]byte{{1}, {2}}
	ev := Packet{Type: Event, Data: []byte(`["a"]`), Attachments: att}
	if got := string(ev.AppendText(nil)); got != `2["a"]` {
		t.Fatalf("event: %q", got)
	}
	bin := Packet{Type: BinaryEvent, Data: []byte(`["a"]`), Attachments: att}
	if got := string(bin.AppendText(nil)); got != `52-["a"]` {
		t.Fatalf("binary event: %q", got)
	}
}

func TestTypeStringNamesEveryType(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK", "Type(7)"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d) = %q, want %q", i, got, w)
		}
	}
}

func TestErrorsNameThePackageAndTheProblem(t *testing.T) {
	_, err := new(Decoder).DecodeText([]byte("9"))
	if err == nil || !strings.HasPrefix(err.Error(), "socketio/parser: invalid packet: ") {
		t.Fatalf("got %v", err)
	}
}

// The inline payload buffers are sized to fill allocator size classes; this
// keeps them honest if Packet changes.
func TestPacketAllocationsFillSizeClasses(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are computed for 64-bit platforms")
	}
	if got := unsafe.Sizeof(smallPacket{}); got != 144 {
		t.Errorf("smallPacket is %d bytes, want 144", got)
	}
	if got := unsafe.Sizeof(mediumPacket{}); got != 256 {
		t.Errorf("mediumPacket is %d bytes, want 256", got)
	}
}
