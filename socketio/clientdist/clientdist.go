// Package clientdist embeds the official socket.io-client browser bundle
// (the npm package pinned in package.json, copied into dist/ by
// scripts/deps.sh) and serves it the way Node's socket.io does: at
// <path>socket.io.js and its .min.js, .esm.min.js, .msgpack.min.js and .map
// variants, with an ETag and 304 answers.
//
// The bundle is build output and is not committed. Built without it, the
// package still compiles; Available reports false and the handler answers
// 404 with a message saying how to fetch it.
package clientdist

import (
	"bytes"
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed dist
var dist embed.FS

// Version is the pinned socket.io-client version (see package.json).
const Version = "4.8.4"

var files = map[string]string{
	"socket.io.js":                 "application/javascript; charset=utf-8",
	"socket.io.js.map":             "application/json; charset=utf-8",
	"socket.io.min.js":             "application/javascript; charset=utf-8",
	"socket.io.min.js.map":         "application/json; charset=utf-8",
	"socket.io.esm.min.js":         "application/javascript; charset=utf-8",
	"socket.io.esm.min.js.map":     "application/json; charset=utf-8",
	"socket.io.msgpack.min.js":     "application/javascript; charset=utf-8",
	"socket.io.msgpack.min.js.map": "application/json; charset=utf-8",
}

// IsBundleFile reports whether name (a path's last element) is one of the
// bundle's file names.
func IsBundleFile(name string) bool {
	_, ok := files[name]
	return ok
}

// Available reports whether the bundle was embedded at build time.
func Available() bool {
	_, err := fs.Stat(dist, "dist/socket.io.min.js")
	return err == nil
}

// MissingMessage explains how to get the bundle.
const MissingMessage = "socket.io client bundle not built: run `make deps` (scripts/deps.sh bundle) and rebuild"

// etag is the same for every file: the bundle changes only with the version.
const etag = `"socket.io-client-` + Version + `"`

// Serve writes the bundle file name (e.g. "socket.io.min.js") to w.
func Serve(w http.ResponseWriter, r *http.Request, name string) {
	ctype, ok := files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	body, err := dist.ReadFile("dist/" + name)
	if err != nil {
		http.Error(w, MissingMessage, http.StatusNotFound)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=0")
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func etagMatches(header string) bool {
	for _, v := range strings.Split(header, ",") {
		v = strings.TrimSpace(v)
		if v == "*" || v == etag || v == "W/"+etag {
			return true
		}
	}
	return false
}
