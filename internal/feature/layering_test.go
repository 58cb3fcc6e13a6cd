package feature_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// storeImport is the store's import path.
const storeImport = "github.com/carecircle/carecircle/internal/store"

// TestDoorsGoThroughTheApplicationLayer: the HTTP API and the web pages
// reach data only through the application layer (internal/feature/... and
// the operator's service). No program file of theirs names the store but
// the one that wires the layer up (the *store.Store it is built from), and
// none opens a transaction or registers an after-commit hook.
func TestDoorsGoThroughTheApplicationLayer(t *testing.T) {
	wiring := map[string]bool{"api/server.go": true, "web/web.go": true}
	for _, door := range []string{"api", "web"} {
		dir := filepath.Join("..", door)
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		checked := 0
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
				continue
			}
			checked++
			path := filepath.Join(dir, name)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			storeName := ""
			for _, imp := range f.Imports {
				if p, _ := strconv.Unquote(imp.Path.Value); p == storeImport {
					storeName = "store"
					if imp.Name != nil {
						storeName = imp.Name.Name
					}
				}
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if id, ok := n.X.(*ast.Ident); ok && storeName != "" && id.Name == storeName {
						if !(wiring[door+"/"+name] && n.Sel.Name == "Store") {
							t.Errorf("%s: names store.%s; go through the application layer", fset.Position(n.Pos()), n.Sel.Name)
						}
					}
					if n.Sel.Name == "store" || (n.Sel.Name == "Store" && !wiring[door+"/"+name]) {
						t.Errorf("%s: reaches for the store; go through the application layer", fset.Position(n.Pos()))
					}
				case *ast.CallExpr:
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "Atomically" || sel.Sel.Name == "OnCommit") {
						t.Errorf("%s: calls %s; a command of the application layer runs the transaction", fset.Position(n.Pos()), sel.Sel.Name)
					}
				}
				return true
			})
		}
		if checked == 0 {
			t.Fatalf("no program files found in %s", dir)
		}
	}
}
