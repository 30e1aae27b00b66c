package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/graph/sdl"
)

// schemaHandler answers GET /schema.graphql with the schema as SDL, as sdl.Print
// prints it: the same text as the committed schema.graphql. The text is printed once;
// its ETag lets a code generator's next fetch be a 304.
func schemaHandler(s *ast.Schema) http.Handler {
	body := sdl.Print(s)
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("ETag", etag)
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	})
}
