package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"sync/atomic"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/models"
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
	p.plain = executionContextOf(oc).plainLeaves()
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

// TestPlainLeafErrorsAsGqlgen: where a plain leaf's value would make an error (a zero
// time in a Time! field, NaN in a Float!) or reading it panics (a step outside the
// wizard), the value and the errors, paths included, are gqlgen's: the same with and
// without a field interceptor. So is a leaf that makes none.
func TestPlainLeafErrorsAsGqlgen(t *testing.T) {
	t.Parallel()
	cases := map[string]func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler{
		"zero time": func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
			return ec._ProviderKey_createdAt(ctx, f, &onboarding.KeyView{ProviderKey: &models.ProviderKey{}})
		},
		"NaN": func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
			return ec._ReadingLevel_fleschReadingEase(ctx, f, &models.ReadingLevel{FleschReadingEase: math.NaN()})
		},
		"a panic": func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
			return ec._OnboardingStep_key(ctx, f, &models.OnboardingStep{Step: 0})
		},
		"no error": func(ec *executionContext, ctx context.Context, f graphql.CollectedField) graphql.Marshaler {
			return ec._OnboardingStep_key(ctx, f, &models.OnboardingStep{Step: 1})
		},
	}
	for name, leaf := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			counter := &leafCounter{}
			wantValue, wantErrs, plain := writeLeaf(t, leaf, counter)
			require.False(t, plain)
			value, errs, plain := writeLeaf(t, leaf)
			require.True(t, plain)
			require.Equal(t, wantValue, value)
			require.Equal(t, wantErrs, errs)
			if name == "no error" {
				require.Equal(t, `"API_KEYS"`, value)
				require.Empty(t, errs)
			} else {
				require.Equal(t, "null", value)
				require.Len(t, errs, 1)
				require.Equal(t, "parent.leaf", errs[0].Path.String())
			}
		})
	}
}

// writeLeaf runs leaf, a field function, as a field named leaf under one named parent,
// on an operation of graph's executor with exts, and returns what it wrote, the errors
// and whether the operation took the plain leaves' branch.
func writeLeaf(t *testing.T, leaf func(*executionContext, context.Context, graphql.CollectedField) graphql.Marshaler, exts ...graphql.HandlerExtension) (string, gqlerror.List, bool) {
	t.Helper()
	ctx, ec := leafOperation(t, exts...)
	ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Query", Field: graphql.CollectedField{Field: &ast.Field{Alias: "parent", Name: "parent"}}})
	var out bytes.Buffer
	leaf(ec, ctx, graphql.CollectedField{Field: &ast.Field{Alias: "leaf", Name: "leaf"}}).MarshalGQL(&out)
	return out.String(), graphql.GetErrors(ctx), ec.plainLeaves()
}

// leafOperation returns the context and the execution context of an operation of
// graph's executor with exts, for calling its field functions directly.
func leafOperation(t *testing.T, exts ...graphql.HandlerExtension) (context.Context, *executionContext) {
	t.Helper()
	exec := executor.New(NewExecutableSchema(Config{}))
	exec.SetRecoverFunc(quietRecover)
	for _, e := range exts {
		exec.Use(e)
	}
	ctx := graphql.StartOperationTrace(context.Background())
	oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: "{ __typename }"})
	require.Empty(t, errs)
	ctx = graphql.WithResponseContext(graphql.WithOperationContext(ctx, oc), graphql.DefaultErrorPresenter, quietRecover)
	return ctx, executionContextOf(oc)
}

// executionContextOf is an execution context of oc with no schema state: enough for
// leaf fields.
func executionContextOf(oc *graphql.OperationContext) *executionContext {
	return &executionContext{&graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]{OperationContext: oc}}
}

// TestPlainLeafTakesTheBranch: with no field interceptor a plain leaf allocates only
// its value's marshaler, where gqlgen's ResolveField allocates its field context,
// context and closures. (Run alone: AllocsPerRun counts every goroutine's.)
func TestPlainLeafTakesTheBranch(t *testing.T) { //nolint:paralleltest // see above
	step := &models.OnboardingStep{Step: 1}
	allocs := func(exts ...graphql.HandlerExtension) float64 {
		ctx, ec := leafOperation(t, exts...)
		field := graphql.CollectedField{Field: &ast.Field{Alias: "key", Name: "key"}}
		return testing.AllocsPerRun(100, func() { ec._OnboardingStep_key(ctx, field, step) })
	}
	plain, intercepted := allocs(), allocs(&leafCounter{})
	require.LessOrEqual(t, plain, 1.0, "the string's marshaler")
	require.Greater(t, intercepted, plain+3, "gqlgen's field machinery")
}
