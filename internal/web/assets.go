package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"sort"
	"strings"
)

// assets are the embedded static files with their ETags, and the version
// of the whole set that names the service worker's cache.
type assets struct {
	files   map[string][]byte
	etags   map[string]string
	version string
}

func loadAssets(static fs.FS) (*assets, error) {
	a := &assets{files: map[string][]byte{}, etags: map[string]string{}}
	var names []string
	err := fs.WalkDir(static, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(static, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.files[p], a.etags[p] = b, `"`+hex.EncodeToString(sum[:8])+`"`
		names = append(names, p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for name, b := range generatedIcons() {
		sum := sha256.Sum256(b)
		a.files[name], a.etags[name] = b, `"`+hex.EncodeToString(sum[:8])+`"`
		names = append(names, name)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		h.Write([]byte(n + a.etags[n]))
	}
	a.version = hex.EncodeToString(h.Sum(nil)[:6])
	return a, nil
}

// assetRoutes serves /static/, the service worker at the root scope, the
// manifest and the icon browsers ask for on their own.
func (s *Server) assetRoutes() {
	a, err := loadAssets(s.static)
	if err != nil {
		panic(err) // embedded at build time: cannot fail at run time
	}
	s.mux.HandleFunc("GET /static/{path...}", func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, r.PathValue("path"))
	})
	s.mux.HandleFunc("GET /manifest.webmanifest", func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, "manifest.webmanifest")
	})
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		a.serve(w, r, "icons/icon-192.png")
	})
	// The worker controls every page, so it lives at the root; its cache is
	// named after the assets' version so that a new release replaces it.
	// Pages that carry personal data are never cached by the browser, but
	// the worker may keep a few for offline reading.
	sw := bytes.ReplaceAll(a.files["sw.js"], []byte("__VERSION__"), []byte(a.version))
	sw = bytes.ReplaceAll(sw, []byte("__API__"), []byte(s.cfg.APIPrefix))
	s.mux.HandleFunc("GET /sw.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Service-Worker-Allowed", "/")
		_, _ = w.Write(sw)
	})
}

// serve answers one static file, revalidated by ETag.
func (a *assets) serve(w http.ResponseWriter, r *http.Request, name string) {
	name = path.Clean("/" + name)[1:]
	b, ok := a.files[name]
	if !ok || name == "sw.js" {
		http.NotFound(w, r)
		return
	}
	ctype := mime.TypeByExtension(path.Ext(name))
	switch path.Ext(name) {
	case ".webmanifest":
		ctype = "application/manifest+json"
	case ".js":
		ctype = "text/javascript; charset=utf-8"
	case ".map":
		ctype = "application/json"
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", a.etags[name])
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, a.etags[name]) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = w.Write(b)
}
