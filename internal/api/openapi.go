package api

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"path/filepath"
	"slices"

	"go.yaml.in/yaml/v3"
)

// The OpenAPI document is written by hand in YAML beside the handlers, so a
// change to a route and to its description land in the same commit and read
// side by side; the server serves it as JSON with the configured prefix.
// Tests hold it to the router (every route documented, nothing documented
// that is not routed) and to the responses of the API tests (each one
// matches the schema of its route and status).
//
//go:embed openapi.yaml
var openAPIYAML []byte

// apiDocsFiles is the page at /api/docs that shows the document: no CDN
// and no inline script or style, as the Content-Security-Policy asks.
//
//go:embed apidocs
var apiDocsFiles embed.FS

// apiDocsPath is where the readable document is served.
const apiDocsPath = "/api/docs"

// apiDocsCSP lets the page load its own script and style and fetch the
// document, and nothing else.
const apiDocsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// openAPIDocument renders the embedded document as JSON, its server being
// the API prefix. Keys keep the order they are written in, so the routes
// read in the order the YAML gives them.
func openAPIDocument(prefix string) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(openAPIYAML, &root); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 || root.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("openapi.yaml: not a mapping")
	}
	var servers yaml.Node
	if err := servers.Encode([]map[string]string{{"url": prefix, "description": "this CareCircle server's API"}}); err != nil {
		return nil, err
	}
	top := root.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		if top.Content[i].Value == "servers" {
			top.Content[i+1] = &servers
		}
	}
	var buf bytes.Buffer
	if err := writeJSONNode(&buf, top); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, buf.Bytes(), "", " "); err != nil {
		return nil, fmt.Errorf("openapi.yaml: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

// writeJSONNode writes a YAML node as JSON, mappings in their order.
func writeJSONNode(buf *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.AliasNode:
		return writeJSONNode(buf, n.Alias)
	case yaml.MappingNode:
		buf.WriteByte('{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				buf.WriteByte(',')
			}
			key, err := json.Marshal(n.Content[i].Value)
			if err != nil {
				return err
			}
			buf.Write(key)
			buf.WriteByte(':')
			if err := writeJSONNode(buf, n.Content[i+1]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		buf.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writeJSONNode(buf, c); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		buf.Write(b)
		return nil
	}
	return fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// openAPIRoutes serves the document and the page that shows it.
func (s *Server) openAPIRoutes() {
	doc, err := openAPIDocument(s.cfg.Prefix)
	if err != nil {
		// The embedded document is checked by the tests; a broken one is a
		// build that must not ship.
		panic(err)
	}
	s.openAPI = doc
	s.route("GET", "/openapi.json", func(w http.ResponseWriter, _ *http.Request) error {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, err := w.Write(s.openAPI)
		return err
	})
	page := template.Must(template.ParseFS(apiDocsFiles, "apidocs/index.html"))
	s.rootRoute("GET", apiDocsPath, func(w http.ResponseWriter, _ *http.Request) error {
		var buf bytes.Buffer
		if err := page.Execute(&buf, map[string]string{"Document": s.cfg.Prefix + "/openapi.json", "Assets": apiDocsPath}); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", apiDocsCSP)
		_, err := w.Write(buf.Bytes())
		return err
	})
	s.rootRoute("GET", apiDocsPath+"/{file}", func(w http.ResponseWriter, r *http.Request) error {
		name := r.PathValue("file")
		if name == "index.html" {
			return &Error{Status: http.StatusNotFound, Message: "Cannot GET " + r.URL.Path}
		}
		b, err := fs.ReadFile(apiDocsFiles, "apidocs/"+name)
		if err != nil {
			return &Error{Status: http.StatusNotFound, Message: "Cannot GET " + r.URL.Path}
		}
		w.Header().Set("Content-Type", mime.TypeByExtension(filepath.Ext(name)))
		w.Header().Set("Content-Security-Policy", apiDocsCSP)
		_, err = w.Write(b)
		return err
	})
}

// Routes lists the patterns registered on the server's mux ("METHOD /path"),
// sorted.
func (s *Server) Routes() []string {
	out := slices.Clone(s.patterns)
	slices.Sort(out)
	return out
}
