package events

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Every event type of the catalog has a producer: some program code outside
// this package names it by its constant (a type nobody emits is a realtime
// message clients wait for in vain, or a catalog line to delete). And no
// program code spells an event type out as a string: it takes the constant,
// so the compiler sees every producer and the catalog stays the one list.
func TestEveryTypeHasAProducerAndNoneIsSpelledOut(t *testing.T) {
	t.Parallel()
	names := typeConstants(t) // constant name → type
	root := filepath.Join("..", "..")
	used := map[string][]string{} // type → where its constant is used
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "testdata", "node_modules", "vendor":
				return filepath.SkipDir
			}
			if rel, _ := filepath.Rel(root, path); rel == filepath.Join("internal", "events") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		alias := eventsImport(f)
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && alias != "" && x.Name == alias {
					if typ, ok := names[n.Sel.Name]; ok {
						used[typ] = append(used[typ], fset.Position(n.Pos()).String())
					}
				}
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				if s, err := strconv.Unquote(n.Value); err == nil {
					if _, ok := Lookup(s); ok {
						t.Errorf("%s spells out the event type %q: use its constant from the catalog", fset.Position(n.Pos()), s)
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Catalog() {
		if len(used[s.Type]) == 0 {
			t.Errorf("no program code emits %s (realtime %q)", s.Type, s.Realtime.Name)
		}
	}
}

// typeConstants reads the event type constants of catalog.go.
func typeConstants(t *testing.T) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "catalog.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, sp := range g.Specs {
			v := sp.(*ast.ValueSpec)
			for i, val := range v.Values {
				if lit, ok := val.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					s, _ := strconv.Unquote(lit.Value)
					out[v.Names[i].Name] = s
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no type constants in catalog.go")
	}
	return out
}

// eventsImport is the name f refers to this package by, or "".
func eventsImport(f *ast.File) string {
	const path = "github.com/carecircle/carecircle/internal/events"
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return "events"
		}
	}
	return ""
}
