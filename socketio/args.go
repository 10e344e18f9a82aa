package socketio

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"switchboard/socketio/parser"
)

// Args are the arguments of an incoming event or acknowledgement, kept as raw
// JSON and decoded on demand with explicit types (Node's listener
// parameters). Binary arguments (Node Buffers, ArrayBuffers, Blobs) are
// attachments: read them with Bytes, or Decode into a []byte; nested ones
// decode into []byte fields. Args is a read-only value, safe for concurrent
// use; index i counts from 0 and excludes the event name and the
// acknowledgement callback.
type Args struct {
	raw         [][]byte
	attachments [][]byte
}

// argsFrom splits a JSON array payload, skipping its first skip elements.
func argsFrom(data []byte, attachments [][]byte, skip int) (Args, error) {
	if len(data) == 0 {
		return Args{attachments: attachments}, nil
	}
	raw, err := parser.SplitArray(nil, data)
	if err != nil {
		return Args{}, err
	}
	if skip > len(raw) {
		skip = len(raw)
	}
	return Args{raw: raw[skip:], attachments: attachments}, nil
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.raw) }

// Raw returns argument i as JSON (binary arguments as their placeholder), or
// nil when there is no argument i.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a.raw) {
		return nil
	}
	return a.raw[i]
}

// Decode decodes argument i into v, as json.Unmarshal does. Binary arguments
// decode into a *[]byte (also nested, into []byte fields). It returns an
// error wrapping ErrNoArgument when there is no argument i, or
// json.Unmarshal's error, wrapped (errors.As with *json.UnmarshalTypeError…).
func (a Args) Decode(i int, v any) error {
	if i < 0 || i >= len(a.raw) {
		return fmt.Errorf("%w: %d of %d", ErrNoArgument, i, len(a.raw))
	}
	raw := a.raw[i]
	if len(a.attachments) > 0 {
		if n, ok := parser.IsPlaceholder(raw); ok && n < len(a.attachments) {
			if b, ok := v.(*[]byte); ok {
				*b = a.attachments[n]
				return nil
			}
		}
		var err error
		if raw, err = parser.ReplacePlaceholders(raw, a.attachments); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("socketio: argument %d: %w", i, err)
	}
	return nil
}

// String returns argument i, which must be a JSON string; otherwise it
// returns an error wrapping ErrArgumentType (or ErrNoArgument).
func (a Args) String(i int) (string, error) {
	if i < 0 || i >= len(a.raw) {
		return "", fmt.Errorf("%w: %d of %d", ErrNoArgument, i, len(a.raw))
	}
	raw := a.raw[i]
	if len(raw) == 0 || raw[0] != '"' {
		return "", fmt.Errorf("%w: argument %d is %s, not a string", ErrArgumentType, i, kind(raw))
	}
	return parser.UnquoteString(raw)
}

// Values returns the arguments ready to be emitted again unchanged: JSON
// arguments as json.RawMessage, binary ones as []byte, and JSON arguments
// with binary values inside (a Buffer in an object) as values that Emit and
// Ack send with those binary values as attachments again (other encoders,
// such as encoding/json, see them as base64 strings, as Decode does). Use it
// to relay an event: s.To(room).Emit(e.Name, e.Args.Values()...).
func (a Args) Values() []any {
	out := make([]any, len(a.raw))
	for i, raw := range a.raw {
		if n, ok := parser.IsPlaceholder(raw); ok && n < len(a.attachments) {
			out[i] = a.attachments[n]
		} else if len(a.attachments) > 0 && parser.ContainsPlaceholder(raw) {
			out[i] = withBinary{raw: raw, attachments: a.attachments}
		} else {
			out[i] = json.RawMessage(raw)
		}
	}
	return out
}

// withBinary is a received JSON value whose placeholders name attachments
// (see Values).
type withBinary struct {
	raw         []byte
	attachments [][]byte
}

// MarshalJSON returns the value with its binary values as base64 strings.
func (w withBinary) MarshalJSON() ([]byte, error) {
	return parser.ReplacePlaceholders(w.raw, w.attachments)
}

// Bytes returns binary argument i, or an error wrapping ErrArgumentType
// when it is not binary (or ErrNoArgument). The slice is the received
// attachment itself, also returned by Decode into a *[]byte and by Values:
// copy it before modifying it.
func (a Args) Bytes(i int) ([]byte, error) {
	if i < 0 || i >= len(a.raw) {
		return nil, fmt.Errorf("%w: %d of %d", ErrNoArgument, i, len(a.raw))
	}
	if n, ok := parser.IsPlaceholder(a.raw[i]); ok && n < len(a.attachments) {
		return a.attachments[n], nil
	}
	return nil, fmt.Errorf("%w: argument %d is %s, not binary", ErrArgumentType, i, kind(a.raw[i]))
}

func kind(raw []byte) string {
	if len(raw) == 0 {
		return "missing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// Encoding of outgoing arguments.

type encoder struct {
	buf bytes.Buffer
	enc *json.Encoder
}

var encoders = sync.Pool{New: func() any {
	e := &encoder{}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}}

// appendValue appends the JSON of v to dst. A []byte — at the top level or
// anywhere inside (map[string]any and []any values, struct fields, typed
// slices and maps; see binary.go) — becomes a binary attachment and its
// placeholder, as Node sends Buffers. Everything else follows encoding/json.
func appendValue(dst []byte, v any, atts [][]byte) ([]byte, [][]byte, error) {
	switch x := v.(type) {
	case map[string]any:
		if containsBinary(x) {
			return appendMap(dst, x, atts)
		}
	case *object: // from binaryTree: members in order
		dst = append(dst, '{')
		var err error
		for i, k := range x.keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = parser.AppendString(dst, k)
			dst = append(dst, ':')
			if dst, atts, err = appendValue(dst, x.vals[i], atts); err != nil {
				return dst, atts, err
			}
		}
		return append(dst, '}'), atts, nil
	case []any:
		if containsBinary(x) {
			dst = append(dst, '[')
			var err error
			for i, e := range x {
				if i > 0 {
					dst = append(dst, ',')
				}
				if dst, atts, err = appendValue(dst, e, atts); err != nil {
					return dst, atts, err
				}
			}
			return append(dst, ']'), atts, nil
		}
	}
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), atts, nil
	case string:
		return parser.AppendString(dst, x), atts, nil
	case []byte:
		dst = append(dst, `{"_placeholder":true,"num":`...)
		dst = strconv.AppendInt(dst, int64(len(atts)), 10)
		return append(dst, '}'), append(atts, x), nil
	case bool:
		return strconv.AppendBool(dst, x), atts, nil
	case int:
		return strconv.AppendInt(dst, int64(x), 10), atts, nil
	case int64:
		return strconv.AppendInt(dst, x, 10), atts, nil
	case json.RawMessage:
		if !json.Valid(x) {
			return dst, atts, fmt.Errorf("socketio: json.RawMessage argument is not valid JSON")
		}
		return append(dst, x...), atts, nil
	case withBinary:
		dst, atts, err := parser.AppendRelinked(dst, x.raw, x.attachments, atts)
		if err != nil {
			return dst, atts, fmt.Errorf("socketio: encoding argument: %w", err)
		}
		return dst, atts, nil
	}
	if tree, ok, err := binaryTree(v); err != nil {
		return dst, atts, fmt.Errorf("socketio: encoding argument: %w", err)
	} else if ok { // a []byte inside a struct, a typed slice or map (binary.go)
		return appendValue(dst, tree, atts)
	}
	e := encoders.Get().(*encoder)
	defer encoders.Put(e)
	e.buf.Reset()
	if err := e.enc.Encode(v); err != nil {
		return dst, atts, fmt.Errorf("socketio: encoding argument: %w", err)
	}
	b := e.buf.Bytes()
	return append(dst, b[:len(b)-1]...), atts, nil // drop Encode's newline
}

// containsBinary reports whether v holds a []byte inside map[string]any,
// []any and *object values.
func containsBinary(v any) bool {
	switch x := v.(type) {
	case []byte, withBinary:
		return true
	case map[string]any:
		for _, e := range x {
			if containsBinary(e) {
				return true
			}
		}
	case *object:
		for _, e := range x.vals {
			if containsBinary(e) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if containsBinary(e) {
				return true
			}
		}
	}
	return false
}

// appendMap encodes a map holding binary values, keys sorted as
// encoding/json sorts them.
func appendMap(dst []byte, m map[string]any, atts [][]byte) ([]byte, [][]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	var err error
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = parser.AppendString(dst, k)
		dst = append(dst, ':')
		if dst, atts, err = appendValue(dst, m[k], atts); err != nil {
			return dst, atts, err
		}
	}
	return append(dst, '}'), atts, nil
}

// eventData encodes ["event",args...] and the binary attachments.
func eventData(event string, args []any) ([]byte, [][]byte, error) {
	dst := make([]byte, 0, 32+len(event))
	dst = append(dst, '[')
	dst = parser.AppendString(dst, event)
	var atts [][]byte
	var err error
	for _, a := range args {
		dst = append(dst, ',')
		if dst, atts, err = appendValue(dst, a, atts); err != nil {
			return nil, nil, err
		}
	}
	return append(dst, ']'), atts, nil
}

// ackData encodes [args...] and the binary attachments.
func ackData(args []any) ([]byte, [][]byte, error) {
	dst := make([]byte, 0, 32)
	dst = append(dst, '[')
	var atts [][]byte
	var err error
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		if dst, atts, err = appendValue(dst, a, atts); err != nil {
			return nil, nil, err
		}
	}
	return append(dst, ']'), atts, nil
}

// newPacket builds an EVENT/ACK packet, binary when it has attachments.
func newPacket(t parser.Type, nsp string, data []byte, atts [][]byte) *parser.Packet {
	if len(atts) > 0 {
		if t == parser.Event {
			t = parser.BinaryEvent
		} else if t == parser.Ack {
			t = parser.BinaryAck
		}
	}
	return &parser.Packet{Type: t, Namespace: nsp, Data: data, Attachments: atts}
}
