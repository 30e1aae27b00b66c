package api

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// DeferOnQueriesOnly refuses an active @defer (one whose if is not false) in a
// mutation or subscription before it runs: gqlgen delivers deferred parts for
// queries only, and would answer the deferred fields of any other operation with
// nulls. The refusal is a validation error (GRAPHQL_VALIDATION_FAILED), as an
// unknown directive such as @stream is; it is checked here rather than by a
// validation rule because whether if is false may depend on the variables.
type DeferOnQueriesOnly struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = DeferOnQueriesOnly{}

func (DeferOnQueriesOnly) ExtensionName() string                   { return "DeferOnQueriesOnly" }
func (DeferOnQueriesOnly) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext looks for an active @defer in an operation other than a query.
func (DeferOnQueriesOnly) MutateOperationContext(_ context.Context, op *graphql.OperationContext) *gqlerror.Error {
	if op.Operation == nil || op.Operation.Operation == ast.Query {
		return nil
	}
	d, path := activeDefer(op, op.Operation.SelectionSet, nil, map[string]bool{})
	if d == nil {
		return nil
	}
	err := gqlerror.ErrorPosf(d.Position, "@defer is supported on queries only, not in a %s (at %s)",
		op.Operation.Operation, pathString(path))
	err.Path = path
	errcode.Set(err, errcode.ValidationFailed)
	err.Extensions["field"] = pathString(path)
	return err
}

// activeDefer finds the first @defer in set whose if is not false, and the path of
// response keys to the fragment it marks.
func activeDefer(op *graphql.OperationContext, set ast.SelectionSet, path ast.Path, seen map[string]bool) (*ast.Directive, ast.Path) {
	for _, sel := range set {
		var inner ast.SelectionSet
		var dirs ast.DirectiveList
		next := path
		switch s := sel.(type) {
		case *ast.Field:
			inner, dirs = s.SelectionSet, nil
			next = append(append(ast.Path(nil), path...), ast.PathName(s.Alias))
		case *ast.InlineFragment:
			inner, dirs = s.SelectionSet, s.Directives
		case *ast.FragmentSpread:
			dirs = s.Directives
			if s.Definition != nil && !seen[s.Name] {
				seen[s.Name] = true
				inner = s.Definition.SelectionSet
			}
		}
		if d := dirs.ForName("defer"); d != nil && deferActive(d, op.Variables) {
			return d, path
		}
		if d, p := activeDefer(op, inner, next, seen); d != nil {
			return d, p
		}
	}
	return nil, nil
}

// deferActive reports whether @defer's if argument is anything but false.
func deferActive(d *ast.Directive, vars map[string]any) bool {
	v, ok := d.ArgumentMap(vars)["if"]
	if !ok {
		return true
	}
	b, isBool := v.(bool)
	return !isBool || b
}

// pathString writes path as a client reads it: the root is "the operation's root".
func pathString(path ast.Path) string {
	if len(path) == 0 {
		return "the operation's root"
	}
	return path.String()
}
