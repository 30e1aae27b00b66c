package graph

import (
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// parseSchema makes gqlgen's parsedSchema (rewritten by graph/rewrite) a function
// that parses the schema once, on first use. gqlgen parses it in package init, where
// its 8 ms (parsing and validating about 100 KB of SDL) came before main in every
// program importing graph, the server's start among them, on one core.
func parseSchema(parse func() *ast.Schema) func() *ast.Schema { return sync.OnceValue(parse) }

// PrepareSchema parses the schema on a goroutine of its own and returns at once, so
// that the parse overlaps whatever the caller does next (the server opens its
// database and applies migrations); the first use waits for it if it has not ended.
func PrepareSchema() {
	// Through Schema, which reads parsedSchema in gqlgen's form and graph's alike (go
	// generate builds this package before graph/rewrite has run).
	go func() {
		// A schema that does not parse panics again, with its message, on the
		// caller's goroutine at its first use (OnceValue repeats the panic), where
		// the server's deferred cleanup runs; not here, where it would end the
		// process halfway through its start.
		defer func() { _ = recover() }()
		new(executableSchema).Schema()
	}()
}
