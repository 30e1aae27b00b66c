package api

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// DepthLimit refuses operations nested deeper than Max. Introspection fields are not
// counted: GraphiQL's own introspection query is deep by design, and production turns
// introspection off anyway.
type DepthLimit struct{ Max int }

var (
	_ graphql.HandlerExtension        = DepthLimit{}
	_ graphql.OperationContextMutator = DepthLimit{}
)

func (DepthLimit) ExtensionName() string                   { return "DepthLimit" }
func (DepthLimit) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext measures the validated operation before it runs.
func (d DepthLimit) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if d.Max <= 0 || op.Operation == nil {
		return nil
	}
	if depth := selectionDepth(op.Operation.SelectionSet, op.Doc.Fragments, map[string]bool{}); depth > d.Max {
		err := gqlerror.Errorf("operation has depth %d, which exceeds the limit of %d", depth, d.Max)
		err.Extensions = map[string]any{"code": "DEPTH_LIMIT_EXCEEDED", "depth": depth, "limit": d.Max}
		return err
	}
	return nil
}

// selectionDepth is the depth of the deepest field under set. Validation has already
// refused fragment cycles; visiting still guards against one.
func selectionDepth(set ast.SelectionSet, fragments ast.FragmentDefinitionList, visiting map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		depth := 0
		switch s := sel.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			depth = 1 + selectionDepth(s.SelectionSet, fragments, visiting)
		case *ast.InlineFragment:
			depth = selectionDepth(s.SelectionSet, fragments, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue
			}
			if def := fragments.ForName(s.Name); def != nil {
				visiting[s.Name] = true
				depth = selectionDepth(def.SelectionSet, fragments, visiting)
				delete(visiting, s.Name)
			}
		}
		deepest = max(deepest, depth)
	}
	return deepest
}
