// Package assets embeds the static files served at content-hashed URLs:
// app.css, app.js, favicon.ico and vendor/ (copied from node_modules by `make assets`).
package assets

import "embed"

// FS holds the static files.
//
//go:embed app.css app.js favicon.ico vendor/htmx.min.js
var FS embed.FS
