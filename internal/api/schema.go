package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/graph/sdl"
)

// schemaHandler answers GET /schema.graphql with the schema as SDL, as sdl.Print
// prints it: the same text as the committed schema.graphql. The text is printed on
// the first request, not at start (printing is a few milliseconds, and few servers
// are ever asked), then kept; its ETag lets a code generator's next fetch be a 304.
func schemaHandler(s *ast.Schema) http.Handler {
	printed := sync.OnceValues(func() ([]byte, string) {
		body := sdl.Print(s)
		sum := sha256.Sum256(body)
		return body, `"` + hex.EncodeToString(sum[:16]) + `"`
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, etag := printed()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}

// rootFields calls visit for every field of the schema's root types (Query, Mutation,
// Subscription), stopping at its first error, and returns the root types' names by
// operation: what the guards that read root fields' directives build on.
func rootFields(schema *ast.Schema, visit func(op ast.Operation, root string, f *ast.FieldDefinition) error) (map[ast.Operation]string, error) {
	roots := map[ast.Operation]string{}
	for op, def := range map[ast.Operation]*ast.Definition{ast.Query: schema.Query, ast.Mutation: schema.Mutation, ast.Subscription: schema.Subscription} {
		if def == nil {
			continue
		}
		roots[op] = def.Name
		for _, f := range def.Fields {
			if err := visit(op, def.Name, f); err != nil {
				return nil, err
			}
		}
	}
	return roots, nil
}
