// Package serve is the static file server for the built page (site/): the
// command tools/serve and the browser test both use Handler, so the page is
// tested as it is served.
package serve

import (
	"net/http"
	"path"
	"strings"
)

// Types are the Content-Types of the files the site holds. They are set here
// rather than taken from the machine's mime tables, so a .wasm file is always
// application/wasm (which WebAssembly.instantiateStreaming requires).
var Types = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".wasm": "application/wasm",
	".json": "application/json",
	".png":  "image/png",
	".svg":  "image/svg+xml",
	".txt":  "text/plain; charset=utf-8",
}

// Policy is the Content-Security-Policy sent with every file: the page and
// its worker may load and fetch from their own origin only ('wasm-unsafe-eval'
// lets the worker compile the engine). index.html carries the same policy in
// a meta tag, for when site/ is served by another server.
const Policy = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
	"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
	"connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'"

// Handler serves the files under dir. Nothing is cached, so a rebuilt site is
// what the next reload gets.
func Handler(dir string) http.Handler {
	files := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		if t, ok := Types[strings.ToLower(path.Ext(r.URL.Path))]; ok {
			h.Set("Content-Type", t)
		}
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", Policy)
		files.ServeHTTP(w, r)
	})
}
