// Package web holds the chat's embedded assets: the HTML templates rendered
// by chat/web and the static files (client.js, style.css…) it serves under
// /public/. Keeping them in the binary means the server needs no files next
// to it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html static/*
var files embed.FS

// Templates returns the html/template sources: layout.html, which defines
// the page frame, and one file per page.
func Templates() fs.FS { return mustSub("templates") }

// Static returns the files served under /public/ (client.js, style.css,
// favicon.svg).
func Static() fs.FS { return mustSub("static") }

func mustSub(dir string) fs.FS {
	sub, err := fs.Sub(files, dir)
	if err != nil {
		panic(err) // the directory is embedded above; this cannot happen
	}
	return sub
}
