package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// plainField is what gqlgen's field context says of a field: the object it is a
// field of, whether its value comes from a method and whether from a resolver.
type plainField struct {
	object   string
	method   bool
	resolver bool
}

// resolve is gqlgen's ResolveField for a field without arguments or directives when
// no extension intercepts fields (plainLeaves): the field's value (read from its
// object or from its resolver) in a field context of its own, which its resolver and
// everything below see, then marshalled, a panic or an error the field's, on its
// path.
//
// gqlgen's does the same in eight to ten allocations: the field context, a closure in
// it for interceptors (Child), the context holding it, the context's variable moved
// to the heap, the middleware's closure, the resolver's, and the value boxed once as
// its result and again in the field context (Result, which only an interceptor
// reads). resolve makes one, the context and field context together (fieldCtx), and
// takes the value typed. The onboarding summary has about thirty such fields.
//
// graph/rewrite has every such field's function take it first when ec.plainLeaves().
// A nil value is one only of an interface type, as gqlgen's any holding the value is
// nil only then. A resolver may mark its nullable field non-null
// (graphql.MarkNonNull): its error or nil then nulls the parent (RequiredNull), as in
// gqlgen's. The field context has no Child (for field interceptors, of which there is
// none here) and no Result (which only an interceptor reads).
func resolve[T any](ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField, f plainField,
	value func(context.Context) (T, error), marshal func(context.Context, ast.SelectionSet, T) graphql.Marshaler,
	recoverFromPanic, nonNull bool,
) (ret graphql.Marshaler) {
	c := &fieldCtx{}
	c.init(ctx, graphql.FieldContext{Object: f.object, Field: field, IsMethod: f.method, IsResolver: f.resolver})
	if recoverFromPanic {
		defer func() {
			if r := recover(); r != nil {
				oc.Error(c, oc.Recover(c, r))
				ret = graphql.Null
			}
		}()
	}
	v, err := value(c)
	if err != nil {
		oc.Error(c, graphql.AddFieldLocationToError(c, err))
		return nullFor(&c.fc, nonNull)
	}
	if any(v) == nil {
		if nonNull || c.fc.NonNull {
			graphql.AddInvalidNullError(c, "")
		}
		return nullFor(&c.fc, nonNull)
	}
	return marshal(c, field.Selections, v)
}

// nullFor is a field's null as gqlgen's ResolveField returns it: RequiredNull for a
// nullable field its resolver marked non-null, which nulls the parent.
func nullFor(fc *graphql.FieldContext, nonNull bool) graphql.Marshaler {
	if fc.NonNull && !nonNull {
		return graphql.RequiredNull
	}
	return graphql.Null
}
