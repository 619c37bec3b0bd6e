// Package templates embeds the HTML templates: layouts/, partials/, then
// <area>/<view>.html pages and <area>/_<piece>.html fragments.
package templates

import "embed"

// FS holds every template.
//
//go:embed */*.html
var FS embed.FS
