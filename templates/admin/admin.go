// Package admin holds the html/template sources and the vendored static assets of the admin screens
// (served by platform/admin), embedded so that every generated binary carries them and works offline.
//
// layout.html defines the frame every page shares ("layout", which calls "content"); each file under
// pages/ defines one page's "content" and the partials htmx swaps in. static/ is served as it is: htmx
// (vendored, see static/VERSIONS.md), the stylesheet and the small script for pickers and kanban drags.
package admin

import "embed"

// Files holds layout.html, pages/*.html and static/*.
//
//go:embed layout.html pages/*.html static/*
var Files embed.FS
