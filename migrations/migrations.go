// Package migrations embeds the numbered, forward-only SQL migrations.
// A landed migration is never edited: add the next number instead.
package migrations

import "embed"

// FS holds every NNNN_name.sql file.
//
//go:embed *.sql
var FS embed.FS
