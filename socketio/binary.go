package socketio

import (
	"bytes"
	"encoding"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// Binary inside Go values that encoding/json would encode (structs, typed
// slices and maps). Node's socket.io sends every Buffer it finds in an
// argument, at any depth, as a binary attachment; encoding/json turns a
// []byte into base64 text. So a value holding a non-nil []byte — a field
// such as `Data []byte` — is encoded by encoding/json, decoded into a
// tree of *object (members in encoding/json's order: struct fields as
// declared, map keys sorted) and []any (numbers kept exact), and each
// base64 string standing exactly where a []byte of the value stands is put
// back as that []byte; the tree then goes the way of map[string]any
// arguments. Values without binary take the plain encoding/json path,
// unchanged.

var (
	marshalerType     = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// opaque reports whether t encodes itself: its []byte, if any, are not ours
// to find.
func opaque(t reflect.Type) bool {
	return t.Implements(marshalerType) || t.Implements(textMarshalerType) ||
		reflect.PointerTo(t).Implements(marshalerType) || reflect.PointerTo(t).Implements(textMarshalerType)
}

func isBytes(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Uint8
}

// mayHoldBytes caches, per type, whether a value of it can hold a []byte
// that encoding/json would write as base64 (through an interface, maybe).
var mayHoldBytesCache sync.Map // reflect.Type → bool

func mayHoldBytes(t reflect.Type) bool {
	if v, ok := mayHoldBytesCache.Load(t); ok {
		return v.(bool)
	}
	r := mayHoldBytesWalk(t, map[reflect.Type]bool{})
	mayHoldBytesCache.Store(t, r)
	return r
}

func mayHoldBytesWalk(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false // a recursive type: its other paths are being checked
	}
	seen[t] = true
	if opaque(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Slice:
		return isBytes(t) || mayHoldBytesWalk(t.Elem(), seen)
	case reflect.Array, reflect.Pointer, reflect.Map:
		return mayHoldBytesWalk(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if (f.IsExported() || f.Anonymous) && f.Tag.Get("json") != "-" && mayHoldBytesWalk(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// maxBinaryDepth bounds the walks (encoding/json refuses cyclic values; we
// must not loop on them before it does).
const maxBinaryDepth = 64

// holdsBytes reports whether v actually holds a non-nil []byte that
// encoding/json would encode as base64.
func holdsBytes(v reflect.Value, depth int) bool {
	if depth > maxBinaryDepth || !v.IsValid() {
		return false
	}
	t := v.Type()
	if !mayHoldBytes(t) {
		return false
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		return !v.IsNil() && holdsBytes(v.Elem(), depth+1)
	case reflect.Slice:
		if isBytes(t) {
			return !v.IsNil()
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			if holdsBytes(v.Index(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if holdsBytes(it.Value(), depth+1) {
				return true
			}
		}
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if (f.IsExported() || f.Anonymous) && f.Tag.Get("json") != "-" && holdsBytes(v.Field(i), depth+1) {
				return true
			}
		}
	}
	return false
}

// binaryTree returns v as a JSON tree with its []byte values in place, and
// whether any was found; ok false means: encode v as encoding/json does.
func binaryTree(v any) (any, bool, error) {
	if t := reflect.TypeOf(v); t == nil || !mayHoldBytes(t) {
		return nil, false, nil // most arguments: no reflect.Value needed
	}
	rv := reflect.ValueOf(v)
	if !holdsBytes(rv, 0) {
		return nil, false, nil
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, false, err
	}
	dec := json.NewDecoder(&b)
	dec.UseNumber()
	tree, err := decodeTree(dec)
	if err != nil {
		return nil, false, err
	}
	tree = restoreBytes(rv, tree, 0)
	return tree, containsBinary(tree), nil
}

// object is a JSON object whose members keep their order.
type object struct {
	keys  []string
	vals  []any
	index map[string]int // built for large objects on the first lookup
}

// MarshalJSON encodes o with its members in order, for encoding/json when o
// is inside a list without binary values (appendValue writes the others).
func (o *object) MarshalJSON() ([]byte, error) {
	b, _, err := appendValue(nil, o, nil)
	return b, err
}

// find returns the index of member k, or -1.
func (o *object) find(k string) int {
	if o.index == nil && len(o.keys) > 16 {
		o.index = make(map[string]int, len(o.keys))
		for i, key := range o.keys {
			o.index[key] = i
		}
	}
	if o.index != nil {
		if i, ok := o.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range o.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// decodeTree decodes one JSON value: objects as *object, arrays as []any,
// numbers as json.Number (dec.UseNumber), the rest as encoding/json does.
func decodeTree(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return tok, nil
	}
	switch d {
	case '{':
		o := &object{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return nil, err
			}
			v, err := decodeTree(dec)
			if err != nil {
				return nil, err
			}
			o.keys, o.vals = append(o.keys, k.(string)), append(o.vals, v)
		}
		_, err = dec.Token() // '}'
		return o, err
	case '[':
		list := []any{}
		for dec.More() {
			v, err := decodeTree(dec)
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		_, err = dec.Token() // ']'
		return list, err
	}
	return nil, fmt.Errorf("unexpected %v", d)
}

// restoreBytes walks v and its encoding's tree together and returns the
// tree with every base64 string that encodes a []byte of v at the same
// place replaced by that []byte.
func restoreBytes(v reflect.Value, tree any, depth int) any {
	if depth > maxBinaryDepth || !v.IsValid() || tree == nil {
		return tree
	}
	t := v.Type()
	if !mayHoldBytes(t) {
		return tree
	}
	switch t.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			return tree
		}
		return restoreBytes(v.Elem(), tree, depth+1)
	case reflect.Slice:
		if isBytes(t) {
			if s, ok := tree.(string); ok && !v.IsNil() {
				raw := v.Bytes()
				if s == base64.StdEncoding.EncodeToString(raw) {
					return raw
				}
			}
			return tree
		}
		fallthrough
	case reflect.Array:
		if list, ok := tree.([]any); ok && len(list) == v.Len() {
			for i := range list {
				list[i] = restoreBytes(v.Index(i), list[i], depth+1)
			}
		}
	case reflect.Map:
		o, ok := tree.(*object)
		if !ok {
			return tree
		}
		for it := v.MapRange(); it.Next(); {
			k, ok := jsonKey(it.Key())
			if !ok {
				return tree
			}
			if i := o.find(k); i >= 0 {
				o.vals[i] = restoreBytes(it.Value(), o.vals[i], depth+1)
			}
		}
	case reflect.Struct:
		if o, ok := tree.(*object); ok {
			restoreFields(v, o, depth)
		}
	}
	return tree
}

// jsonKey returns the member name encoding/json writes for map key k:
// string keys as they are, then encoding.TextMarshalers, then integers.
func jsonKey(k reflect.Value) (string, bool) {
	if k.Kind() == reflect.String {
		return k.String(), true
	}
	if k.CanInterface() {
		if tm, ok := k.Interface().(encoding.TextMarshaler); ok {
			if k.Kind() == reflect.Pointer && k.IsNil() {
				return "", true
			}
			b, err := tm.MarshalText()
			return string(b), err == nil
		}
	}
	switch k.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.FormatInt(k.Int(), 10), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.FormatUint(k.Uint(), 10), true
	}
	return "", false
}

// restoreFields restores the fields of struct v into o, the object
// encoding/json made of it: named by their json tag or Go name, embedded
// structs without a tag name promoted into the same object.
func restoreFields(v reflect.Value, o *object, depth int) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		fv := v.Field(i)
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				ft, fv = ft.Elem(), fv.Elem()
			}
			if ft.Kind() == reflect.Struct && !opaque(ft) {
				restoreFields(fv, o, depth+1)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if i := o.find(name); i >= 0 {
			o.vals[i] = restoreBytes(fv, o.vals[i], depth+1)
		}
	}
}
