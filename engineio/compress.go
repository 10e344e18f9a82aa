package engineio

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// HTTPCompression configures the compression of long-polling responses
// (Node's httpCompression): a response of at least Threshold bytes is
// compressed with gzip or deflate when the request's Accept-Encoding
// allows one of them (browsers and the Node client send it), unless every
// packet in it was sent Uncompressed. On by default, as in Node; WebSocket
// messages are PerMessageDeflate's.
type HTTPCompression struct {
	// Disabled turns it off.
	Disabled bool
	// Threshold is the smallest response compressed, in bytes (default
	// 1024).
	Threshold int
	// Level is the compress/flate level, 1 (fastest, the default) to 9
	// (smallest).
	Level int
}

// pollEncoding returns the content coding a polling response of n bytes
// gets: "gzip", "deflate", or "" (none).
func (c *config) pollEncoding(r *http.Request, n int) string {
	hc := c.HTTPCompression
	if hc.Disabled || n < hc.Threshold {
		return ""
	}
	gz, df := acceptsEncoding(r.Header.Values("Accept-Encoding"))
	switch {
	case gz:
		return "gzip"
	case df:
		return "deflate"
	}
	return ""
}

// acceptsEncoding reports whether Accept-Encoding values accept gzip and
// deflate: named (or "*") with a q-value that is not zero.
func acceptsEncoding(values []string) (gzip, deflate bool) {
	var star, gz, df struct{ seen, ok bool }
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			ok := true
			for p := range strings.SplitSeq(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(strings.TrimSpace(k), "q") {
					if q, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil && q <= 0 {
						ok = false
					}
				}
			}
			switch coding = strings.TrimSpace(coding); {
			case strings.EqualFold(coding, "gzip"), strings.EqualFold(coding, "x-gzip"):
				gz.seen, gz.ok = true, ok
			case strings.EqualFold(coding, "deflate"):
				df.seen, df.ok = true, ok
			case coding == "*":
				star.seen, star.ok = true, ok
			}
		}
	}
	accept := func(c struct{ seen, ok bool }) bool {
		if c.seen {
			return c.ok
		}
		return star.ok
	}
	return accept(gz), accept(df)
}

// compressors pools gzip and zlib writers per level.
type compressors struct {
	gzip, zlib [flate.BestCompression + 1]sync.Pool
}

var pollCompressors compressors

// resetWriter is a *gzip.Writer or a *zlib.Writer.
type resetWriter interface {
	io.WriteCloser
	Reset(io.Writer)
}

// compress returns body compressed with encoding ("gzip" or "deflate",
// the zlib format HTTP means by it) at level, appended to dst.
func (p *compressors) compress(dst *bytes.Buffer, body []byte, encoding string, level int) error {
	var w resetWriter
	pool := &p.gzip[level]
	if encoding == "deflate" {
		pool = &p.zlib[level]
	}
	if v := pool.Get(); v != nil {
		w = v.(resetWriter)
		w.Reset(dst)
	} else {
		var err error
		if encoding == "deflate" {
			w, err = zlib.NewWriterLevel(dst, level)
		} else {
			w, err = gzip.NewWriterLevel(dst, level)
		}
		if err != nil {
			return err
		}
	}
	_, err := w.Write(body)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	w.Reset(io.Discard)
	pool.Put(w)
	return err
}
