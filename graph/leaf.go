package graph

import (
	"context"
	"math"
	"reflect"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// plainLeaves reports whether the operation's leaf fields may be written without
// gqlgen's field machinery: no extension intercepts fields, so the field
// middleware is gqlgen's own, which calls the resolver and nothing else.
//
// gqlgen resolves every field, however plain, through ResolveField: a field
// context on a new context, four closures and the value boxed, six to nine
// allocations for a string read from a struct. An answer of many small objects,
// such as the onboarding summary, made most of its allocations there. graph/rewrite
// has each plain leaf field (a scalar or enum read from the object, no resolver,
// directive or argument, a marshaler that cannot report an error) take a first
// branch that marshals the value at once when this holds. The answer is the same,
// byte for byte; what the branch skips is what only a field interceptor would see.
func (ec *executionContext) plainLeaves() bool {
	return reflect.ValueOf(ec.ResolverMiddleware).Pointer() == gqlgenFieldMiddleware()
}

// recoverLeaf is a plain leaf's recovery from a panic reading its value (a method
// of the object's, say): what gqlgen's ResolveField does, the error on the field's
// path and the field null, with the field context made only then.
func recoverLeaf(ctx context.Context, oc *graphql.OperationContext, field graphql.CollectedField, object string, ret *graphql.Marshaler) {
	r := recover()
	if r == nil {
		return
	}
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: object, Field: field})
	oc.Error(ctx, oc.Recover(ctx, r))
	*ret = graphql.Null
}

// finite reports whether a Float field's value is one gqlgen writes without an error.
func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

// gqlgenFieldMiddleware is the code of the field middleware gqlgen's executor gives
// an operation when no extension intercepts fields. Every closure made from one
// function literal shares its code, so this identifies it whatever the extensions
// that do not intercept fields.
var gqlgenFieldMiddleware = sync.OnceValue(func() uintptr {
	exec := executor.New(NewExecutableSchema(Config{}))
	exec.Use(noFieldInterceptor{})
	oc, errs := exec.CreateOperationContext(graphql.StartOperationTrace(context.Background()), &graphql.RawParams{Query: "{__typename}"})
	if errs != nil {
		panic("graph: gqlgen refused {__typename}: " + errs.Error())
	}
	return reflect.ValueOf(oc.ResolverMiddleware).Pointer()
})

// noFieldInterceptor is an extension that intercepts no field: gqlgen's executor
// builds its middleware again when one is added, as the server's are.
type noFieldInterceptor struct{}

func (noFieldInterceptor) ExtensionName() string                   { return "graph.noFieldInterceptor" }
func (noFieldInterceptor) Validate(graphql.ExecutableSchema) error { return nil }

func (noFieldInterceptor) MutateOperationContext(context.Context, *graphql.OperationContext) *gqlerror.Error {
	return nil
}
