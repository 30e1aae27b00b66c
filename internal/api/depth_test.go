package api

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// A DepthLimit that remembers depths answers as one that walks every operation: the
// same verdicts and errors, per operation of a document, asked again and again.
func TestDepthLimitRemembersPerOperation(t *testing.T) {
	doc, err := parser.ParseQuery(&ast.Source{Input: `
		query Shallow { a }
		query Deep { a { b { c { ...F } } } }
		fragment F on T { d { e } }
	`})
	require.NoError(t, err)
	opCtx := func(name string) *graphql.OperationContext {
		return &graphql.OperationContext{Doc: doc, OperationName: name, Operation: doc.Operations.ForName(name)}
	}
	remembering := NewDepthLimit(4, 10)
	walking := DepthLimit{Max: 4}
	for range 3 {
		for _, limit := range []DepthLimit{remembering, walking} {
			require.Nil(t, limit.MutateOperationContext(context.Background(), opCtx("Shallow")))
			gqlErr := limit.MutateOperationContext(context.Background(), opCtx("Deep"))
			require.NotNil(t, gqlErr)
			require.Equal(t, "operation has depth 5, which exceeds the limit of 4", gqlErr.Message)
			require.Equal(t, map[string]any{"code": "DEPTH_LIMIT_EXCEEDED", "depth": 5, "limit": 4}, gqlErr.Extensions)
		}
	}
	require.Equal(t, 2, remembering.depths.Len())

	// Another document is another entry, even for the same operation name.
	other, err := parser.ParseQuery(&ast.Source{Input: `query Deep { a { b } }`})
	require.NoError(t, err)
	op := &graphql.OperationContext{Doc: other, OperationName: "Deep", Operation: other.Operations.ForName("Deep")}
	require.Nil(t, remembering.MutateOperationContext(context.Background(), op))
	require.Equal(t, 3, remembering.depths.Len())

	require.Nil(t, NewDepthLimit(4, 0).depths, "no documents: nothing remembered")
}
