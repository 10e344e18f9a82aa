package parser

import (
	"bytes"
	"encoding/base64"
	"strconv"
)

// maxDepth is the deepest nesting of arrays and objects accepted, the same
// limit as encoding/json's, so that every payload accepted here can later be
// decoded by encoding/json.
const maxDepth = 10000

// maxPlaceholderNum bounds the placeholder numbers IsPlaceholder reports;
// larger numbers can never name an attachment.
const maxPlaceholderNum = 1<<31 - 1

// scanner is a validating recursive-descent JSON scanner over data. It never
// decodes values; it only finds where they start and end. When marks is not
// nil it records there the placeholder objects it meets, with the semantics of
// the reference parser's reconstructPacket: an object is a placeholder when
// its (last) "_placeholder" member is the literal true; a placeholder replaces
// the whole object, so placeholders nested inside one are forgotten.
type scanner struct {
	data  []byte
	pos   int
	depth int
	marks *markList
}

// mark is a placeholder object found by a tracking scanner: data[start:end]
// is the object and num the attachment it names, or -1 when its num member is
// missing or not a non-negative integer.
type mark struct{ start, end, num int }

// markList is a list of marks that keeps the first few inline, so that a
// markList on the stack holds the usual handful without allocating.
type markList struct {
	inline [8]mark
	n      int
	more   []mark // marks after the inline ones
}

func (l *markList) len() int { return l.n }

func (l *markList) at(i int) mark {
	if i < len(l.inline) {
		return l.inline[i]
	}
	return l.more[i-len(l.inline)]
}

// truncate forgets the marks from the nth on.
func (l *markList) truncate(n int) { l.n = n }

func (l *markList) add(m mark) {
	if l.n < len(l.inline) {
		l.inline[l.n] = m
	} else {
		l.more = append(l.more[:l.n-len(l.inline)], m)
	}
	l.n++
}

// plainStringByte tells the bytes that stand for themselves inside a JSON
// string: all but '"', '\\' and control characters. Read-only.
var plainStringByte = func() (t [256]bool) {
	for c := range t {
		t[c] = c >= 0x20 && c != '"' && c != '\\'
	}
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

// trimSpace returns b without leading and trailing JSON whitespace.
func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) && isSpace(s.data[s.pos]) {
		s.pos++
	}
}

// unexpected reports the byte at s.pos, or the end of input.
func (s *scanner) unexpected() error {
	if s.pos >= len(s.data) {
		return invalid("JSON ends unexpectedly at offset %d", s.pos)
	}
	return invalid("unexpected %q in JSON at offset %d", s.data[s.pos], s.pos)
}

// whole scans data as exactly one JSON value with optional surrounding
// whitespace.
func (s *scanner) whole() error {
	s.skipSpace()
	if err := s.value(); err != nil {
		return err
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return s.unexpected()
	}
	return nil
}

// value scans one JSON value starting exactly at s.pos and leaves s.pos just
// after it.
func (s *scanner) value() error {
	if s.pos >= len(s.data) {
		return s.unexpected()
	}
	switch c := s.data[s.pos]; {
	case c == '"':
		_, err := s.str()
		return err
	case c == '[':
		return s.array()
	case c == '{':
		return s.object()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || isDigit(c):
		return s.number()
	}
	return s.unexpected()
}

func (s *scanner) literal(lit string) error {
	end := s.pos + len(lit)
	if end > len(s.data) || string(s.data[s.pos:end]) != lit {
		return invalid("invalid literal in JSON at offset %d", s.pos)
	}
	s.pos = end
	return nil
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (s *scanner) number() error {
	d, i := s.data, s.pos
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && isDigit(d[i]):
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		s.pos = i
		return s.unexpected()
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			s.pos = i
			return s.unexpected()
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			s.pos = i
			return s.unexpected()
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return nil
}

// str scans a string starting at the opening quote and reports whether it
// contains escapes. Bytes from 0x80 up are accepted as they are: UTF-8
// validity is checked once for the whole message by the decoder.
func (s *scanner) str() (escaped bool, err error) {
	d, i := s.data, s.pos+1
	for i < len(d) {
		c := d[i]
		if plainStringByte[c] {
			i++
			continue
		}
		switch {
		case c == '"':
			s.pos = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			if i+1 >= len(d) {
				s.pos = i + 1
				return escaped, s.unexpected()
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return escaped, invalid("invalid \\u escape in JSON at offset %d", i)
				}
				i += 6
			default:
				return escaped, invalid("invalid escape in JSON at offset %d", i)
			}
		case c < 0x20:
			s.pos = i
			return escaped, invalid("control character %q in JSON string at offset %d", c, i)
		default:
			i++
		}
	}
	s.pos = i
	return escaped, s.unexpected()
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return invalid("JSON nested deeper than %d at offset %d", maxDepth, s.pos)
	}
	s.pos++
	s.skipSpace()
	return nil
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := s.value(); err != nil {
			return err
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.unexpected()
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipSpace()
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.unexpected()
		}
	}
}

func (s *scanner) object() error {
	start := s.pos
	if err := s.enter(); err != nil {
		return err
	}
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return nil
	}
	var marks int
	if s.marks != nil {
		marks = s.marks.len()
	}
	placeholder := false
	var num []byte
	for {
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.unexpected()
		}
		keyStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[keyStart:s.pos]
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.unexpected()
		}
		s.pos++
		s.skipSpace()
		valStart := s.pos
		if err := s.value(); err != nil {
			return err
		}
		if s.marks != nil {
			switch keyName(key, escaped) {
			case "_placeholder":
				placeholder = string(s.data[valStart:s.pos]) == "true"
			case "num":
				num = s.data[valStart:s.pos]
			}
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			return s.unexpected()
		}
		if s.data[s.pos] == '}' {
			s.pos++
			break
		}
		if s.data[s.pos] != ',' {
			return s.unexpected()
		}
		s.pos++
		s.skipSpace()
	}
	s.depth--
	if placeholder {
		s.marks.truncate(marks)
		s.marks.add(mark{start: start, end: s.pos, num: placeholderNum(num)})
	}
	return nil
}

// keyName returns the member name when it might be one a placeholder uses,
// and "" otherwise. key is the quoted token.
func keyName(key []byte, escaped bool) string {
	if !escaped {
		switch string(key[1 : len(key)-1]) {
		case "_placeholder":
			return "_placeholder"
		case "num":
			return "num"
		}
		return ""
	}
	// Cloning keeps key from escaping (encoding/json retains its input as
	// far as escape analysis can tell), which would move every scanner, and
	// the markList it points to, to the heap. Escaped keys are rare.
	name, err := UnquoteString(bytes.Clone(key))
	if err != nil {
		return ""
	}
	return name
}

// placeholderNum converts a placeholder's num member (a valid JSON number, or
// nil when absent) to an attachment index, or -1 when it is not a
// non-negative integer; as in JavaScript, 1.0 and 1e0 both mean 1.
func placeholderNum(num []byte) int {
	if len(num) == 0 {
		return -1
	}
	if len(num) <= 9 {
		n := 0
		for _, c := range num {
			if !isDigit(c) {
				n = -1
				break
			}
			n = n*10 + int(c-'0')
		}
		if n >= 0 {
			return n
		}
	}
	f, err := strconv.ParseFloat(string(num), 64)
	if err != nil || f < 0 || f > maxPlaceholderNum || f != float64(int(f)) {
		return -1
	}
	return int(f)
}

// placeholders scans data, which must be one JSON value, and adds the
// placeholder objects in it to marks, in order.
func placeholders(marks *markList, data []byte) error {
	s := scanner{data: data, marks: marks}
	return s.whole()
}

// checkPlaceholders reports an error unless every placeholder in data names
// one of n attachments.
func checkPlaceholders(data []byte, n int) error {
	var marks markList
	if err := placeholders(&marks, data); err != nil {
		return err
	}
	for i := range marks.len() {
		if err := marks.at(i).check(n); err != nil {
			return err
		}
	}
	return nil
}

func (m mark) check(attachments int) error {
	if m.num < 0 {
		return invalid("placeholder at offset %d has no non-negative integer num", m.start)
	}
	if m.num >= attachments {
		return invalid("placeholder at offset %d names attachment %d of %d", m.start, m.num, attachments)
	}
	return nil
}

// SplitArray appends to dst the top-level elements of the JSON array data,
// each without surrounding whitespace, and returns the extended slice. The
// elements alias data (their capacity ends with them, so appending to one
// never overwrites data).
//
// data is expected to be valid JSON, as Packet.Data of a decoded Event or Ack
// is; SplitArray still checks it as it goes. When data is not exactly one JSON
// array it returns dst unchanged and an error wrapping ErrInvalidPacket.
func SplitArray(dst [][]byte, data []byte) ([][]byte, error) {
	n0 := len(dst)
	s := scanner{data: data}
	s.skipSpace()
	if s.pos >= len(data) || data[s.pos] != '[' {
		return dst, invalid("JSON value is not an array")
	}
	if err := s.enter(); err != nil {
		return dst, err
	}
	if s.pos < len(data) && data[s.pos] == ']' {
		s.pos++
	} else {
		for {
			start := s.pos
			if err := s.value(); err != nil {
				return dst[:n0], err
			}
			dst = append(dst, data[start:s.pos:s.pos])
			s.skipSpace()
			if s.pos < len(data) && data[s.pos] == ',' {
				s.pos++
				s.skipSpace()
				continue
			}
			if s.pos < len(data) && data[s.pos] == ']' {
				s.pos++
				break
			}
			return dst[:n0], s.unexpected()
		}
	}
	s.skipSpace()
	if s.pos != len(data) {
		return dst[:n0], s.unexpected()
	}
	return dst, nil
}

// IsPlaceholder reports whether raw, one JSON value with optional surrounding
// whitespace, is a binary placeholder object, and returns the attachment
// number it names. As in the reference parser an object is a placeholder when
// its "_placeholder" member is true; other members are ignored. ok is false
// for anything else, including a placeholder whose num is not a non-negative
// integer.
func IsPlaceholder(raw []byte) (num int, ok bool) {
	raw = trimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return 0, false
	}
	var marks markList
	if err := placeholders(&marks, raw); err != nil || marks.len() != 1 {
		return 0, false
	}
	if m := marks.at(0); m.start == 0 && m.end == len(raw) && m.num >= 0 {
		return m.num, true
	}
	return 0, false
}

// ContainsPlaceholder reports whether raw, one valid JSON value, holds a
// placeholder object anywhere (see IsPlaceholder).
func ContainsPlaceholder(raw []byte) bool {
	var marks markList
	return placeholders(&marks, raw) == nil && marks.len() > 0
}

// AppendRelinked appends raw, one JSON value whose placeholder objects name
// attachments, to dst with every placeholder replaced by one naming len(out),
// the attachment's position in the packet being built, and appends that
// attachment to out. The rest of raw is copied unchanged. It is how a
// received value holding binary data is sent again in another packet.
//
// It returns dst and out unchanged and an error wrapping ErrInvalidPacket
// when raw is not valid JSON or a placeholder's num is not an index into
// attachments.
func AppendRelinked(dst, raw []byte, attachments, out [][]byte) ([]byte, [][]byte, error) {
	var marks markList
	if err := placeholders(&marks, raw); err != nil {
		return dst, out, err
	}
	for i := range marks.len() {
		if err := marks.at(i).check(len(attachments)); err != nil {
			return dst, out, err
		}
	}
	prev := 0
	for i := range marks.len() {
		m := marks.at(i)
		dst = append(dst, raw[prev:m.start]...)
		dst = append(dst, `{"_placeholder":true,"num":`...)
		dst = strconv.AppendInt(dst, int64(len(out)), 10)
		dst = append(dst, '}')
		out = append(out, attachments[m.num])
		prev = m.end
	}
	return append(dst, raw[prev:]...), out, nil
}

// ReplacePlaceholders returns raw, one JSON value, with every placeholder
// object in it (see IsPlaceholder) replaced by a JSON string holding the
// standard base64 encoding of the attachment it names, which is how
// encoding/json expects a []byte. It returns raw itself when raw contains no
// placeholder, and a new slice otherwise.
//
// It returns an error wrapping ErrInvalidPacket when raw is not valid JSON or
// a placeholder's num is not an index into attachments.
func ReplacePlaceholders(raw []byte, attachments [][]byte) ([]byte, error) {
	var marks markList
	if err := placeholders(&marks, raw); err != nil {
		return nil, err
	}
	if marks.len() == 0 {
		return raw, nil
	}
	size := len(raw)
	for i := range marks.len() {
		m := marks.at(i)
		if err := m.check(len(attachments)); err != nil {
			return nil, err
		}
		size += 2 + base64.StdEncoding.EncodedLen(len(attachments[m.num])) - (m.end - m.start)
	}
	out := make([]byte, 0, size)
	prev := 0
	for i := range marks.len() {
		m := marks.at(i)
		out = append(out, raw[prev:m.start]...)
		out = append(out, '"')
		out = base64.StdEncoding.AppendEncode(out, attachments[m.num])
		out = append(out, '"')
		prev = m.end
	}
	return append(out, raw[prev:]...), nil
}
