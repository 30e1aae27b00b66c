package api

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// operationChain runs the server's operation interceptors, outermost first, as one
// gqlgen extension. gqlgen wraps every extension it is given in closures of its own,
// one made anew for each operation: an allocation and two stack frames an
// interceptor, on every request. The chain walks its list instead, with two
// allocations an operation whatever its length (chainWalk and its step).
//
// An interceptor in the chain calls next at most once, before it returns (as every
// one of the server's does): the chain's place in the list moves on with each call.
type operationChain []graphql.OperationInterceptor

var (
	_ graphql.HandlerExtension     = operationChain(nil)
	_ graphql.OperationInterceptor = operationChain(nil)
)

func (operationChain) ExtensionName() string { return "OperationChain" }

// Validate validates each interceptor that is an extension, as gqlgen would have.
func (c operationChain) Validate(schema graphql.ExecutableSchema) error {
	for _, step := range c {
		if ext, ok := step.(graphql.HandlerExtension); ok {
			if err := ext.Validate(schema); err != nil {
				return err
			}
		}
	}
	return nil
}

// InterceptOperation runs the first interceptor, whose next runs the second, and so
// on; the last one's next is gqlgen's.
func (c operationChain) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	if len(c) == 0 {
		return next(ctx)
	}
	w := &chainWalk{chain: c, last: next}
	w.next = w.step
	return w.step(ctx)
}

// chainWalk is one operation's way through an operationChain.
type chainWalk struct {
	chain operationChain
	at    int
	last  graphql.OperationHandler
	next  graphql.OperationHandler // step, made once
}

func (w *chainWalk) step(ctx context.Context) graphql.ResponseHandler {
	if w.at == len(w.chain) {
		return w.last(ctx)
	}
	i := w.at
	w.at++
	return w.chain[i].InterceptOperation(ctx, w.next)
}

// observerResponses is the observer's response and root field interceptors, without
// its operation interceptor, which runs in the operationChain (and its Validate there).
type observerResponses struct{ o *observer }

var (
	_ graphql.ResponseInterceptor  = observerResponses{}
	_ graphql.RootFieldInterceptor = observerResponses{}
)

func (observerResponses) ExtensionName() string                   { return "OperationObserverResponses" }
func (observerResponses) Validate(graphql.ExecutableSchema) error { return nil }

func (r observerResponses) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	return r.o.InterceptResponse(ctx, next)
}

func (r observerResponses) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	return r.o.InterceptRootField(ctx, next)
}
