package graph

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestPlainLeaves: with no extension intercepting fields, an operation's plain leaf
// fields take graph/leaf.go's branch, and the answer is byte for byte the one
// gqlgen's field machinery writes when an interceptor is installed; with one, the
// interceptor sees every leaf field. The introspection types' fields are plain
// leaves like the application's (a method's value, nullable or not).
func TestPlainLeaves(t *testing.T) {
	t.Parallel()
	const query = `{ __schema { types { name kind description fields(includeDeprecated: true) { name isDeprecated deprecationReason } } } }`

	plainAnswer, plain := execute(t, query)
	require.True(t, plain, "no extension intercepts fields")

	counter := &leafCounter{}
	answer, plain := execute(t, query, counter)
	require.False(t, plain, "an extension intercepts fields")
	require.Equal(t, answer, plainAnswer)

	var got struct {
		Schema struct {
			Types []struct {
				Name   string
				Fields []struct{ Name string }
			}
		} `json:"__schema"`
	}
	require.NoError(t, json.Unmarshal([]byte(answer), &got))
	wantNames := 0
	for _, ty := range got.Schema.Types {
		wantNames += 1 + len(ty.Fields)
	}
	require.Greater(t, wantNames, 500, "the schema's types and their fields")
	require.EqualValues(t, wantNames, counter.names.Load(), "the interceptor saw every name")
}

// execute runs query on graph's executor with introspection and exts, and returns the
// answer's data and whether its operation took the plain leaves' branch.
func execute(t *testing.T, query string, exts ...graphql.HandlerExtension) (string, bool) {
	t.Helper()
	exec := executor.New(NewExecutableSchema(Config{}))
	exec.Use(extension.Introspection{})
	for _, e := range exts {
		exec.Use(e)
	}
	probe := &plainProbe{}
	exec.Use(probe)
	ctx := graphql.StartOperationTrace(context.Background())
	oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query})
	require.Empty(t, errs)
	handle, ctx := exec.DispatchOperation(ctx, oc)
	resp := handle(ctx)
	require.Empty(t, resp.Errors)
	return string(resp.Data), probe.plain
}

// plainProbe records whether an operation would take the plain leaves' branch, as
// the last extension to change its context.
type plainProbe struct{ plain bool }

func (*plainProbe) ExtensionName() string                   { return "plainProbe" }
func (*plainProbe) Validate(graphql.ExecutableSchema) error { return nil }

func (p *plainProbe) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	ec := executionContext{&graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]{OperationContext: oc}}
	p.plain = ec.plainLeaves()
	return nil
}

// leafCounter intercepts fields, counting those named name.
type leafCounter struct{ names atomic.Int64 }

func (*leafCounter) ExtensionName() string                   { return "leafCounter" }
func (*leafCounter) Validate(graphql.ExecutableSchema) error { return nil }

func (c *leafCounter) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	if graphql.GetFieldContext(ctx).Field.Name == "name" {
		c.names.Add(1)
	}
	return next(ctx)
}
