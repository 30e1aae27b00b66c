package api

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stepKey is the context key under which a step says it ran.
type stepKey string

// step is an interceptor that notes its name, then refuses or goes on.
type step struct {
	name   string
	seen   *[]string
	refuse bool
	err    error
}

func (s step) ExtensionName() string                   { return s.name }
func (s step) Validate(graphql.ExecutableSchema) error { return s.err }
func (s step) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	*s.seen = append(*s.seen, s.name)
	if s.refuse {
		return graphql.OneShot(&graphql.Response{Data: []byte(`"refused by ` + s.name + `"`)})
	}
	return next(context.WithValue(ctx, stepKey(s.name), true))
}

// TestOperationChain: the chain runs its interceptors outermost first, each with
// the context the one before it passed on, and gqlgen's handler last; a refusal
// ends the walk there; Validate is each interceptor's.
func TestOperationChain(t *testing.T) {
	var seen []string
	last := func(ctx context.Context) graphql.ResponseHandler {
		seen = append(seen, "executor")
		assert.Equal(t, true, ctx.Value(stepKey("a")))
		assert.Equal(t, true, ctx.Value(stepKey("b")))
		return graphql.OneShot(&graphql.Response{Data: []byte(`"ran"`)})
	}
	chain := operationChain{step{name: "a", seen: &seen}, step{name: "b", seen: &seen}}
	resp := chain.InterceptOperation(context.Background(), last)(context.Background())
	assert.Equal(t, []string{"a", "b", "executor"}, seen)
	assert.JSONEq(t, `"ran"`, string(resp.Data))

	seen = nil
	chain = operationChain{step{name: "a", seen: &seen}, step{name: "b", seen: &seen, refuse: true}, step{name: "c", seen: &seen}}
	resp = chain.InterceptOperation(context.Background(), last)(context.Background())
	assert.Equal(t, []string{"a", "b"}, seen)
	assert.JSONEq(t, `"refused by b"`, string(resp.Data))

	seen = nil
	resp = operationChain{}.InterceptOperation(context.Background(), func(context.Context) graphql.ResponseHandler {
		return graphql.OneShot(&graphql.Response{Data: []byte(`"empty"`)})
	})(context.Background())
	assert.JSONEq(t, `"empty"`, string(resp.Data))

	bad := errors.New("no such root")
	require.NoError(t, operationChain{step{name: "a"}}.Validate(nil))
	require.ErrorIs(t, operationChain{step{name: "a"}, step{name: "b", err: bad}}.Validate(nil), bad)
}

// TestOperationChainIsReentrant: one chain serves every operation, one after another
// and at once: each walk is the operation's own.
func TestOperationChainIsReentrant(t *testing.T) {
	type key struct{}
	mark := func(name string) graphql.OperationInterceptor {
		return aroundOp(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			seen, _ := ctx.Value(key{}).(*[]string)
			*seen = append(*seen, name)
			return next(ctx)
		})
	}
	chain := operationChain{mark("a"), mark("b"), mark("c")}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				var seen []string
				ctx := context.WithValue(context.Background(), key{}, &seen)
				chain.InterceptOperation(ctx, func(context.Context) graphql.ResponseHandler {
					seen = append(seen, "executor")
					return graphql.OneShot(&graphql.Response{})
				})
				if !assert.Equal(t, []string{"a", "b", "c", "executor"}, seen) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// aroundOp is an operation interceptor made of a function.
type aroundOp func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler

func (f aroundOp) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return f(ctx, next)
}
