// Package assets embeds the static files served at content-hashed URLs:
// app.css, app.js, favicon.ico and vendor/ (copied from node_modules by `make assets`),
// and sw.js, the service worker of offline reading (served at /sw.js).
package assets

import "embed"

// FS holds the static files.
//
//go:embed app.css app.js favicon.ico sw.js vendor/htmx.min.js
var FS embed.FS
