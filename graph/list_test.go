package graph

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/models"
)

// TestMarshalListAsGqlgen: a list marshalled element after element is gqlgen's,
// byte for byte: each element sees its own path, and a panicking element is null,
// with its error on its path, while the others are written.
func TestMarshalListAsGqlgen(t *testing.T) {
	t.Parallel()
	marshal := func(ctx context.Context, i int) graphql.Marshaler {
		if i == 2 {
			panic("element 2 fails")
		}
		return graphql.MarshalString(graphql.GetFieldContext(ctx).Path().String())
	}
	run := func(list func(context.Context, int, func(context.Context, int) graphql.Marshaler) graphql.Array) (string, string) {
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, quietRecover)
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Field: graphql.CollectedField{Field: &ast.Field{Alias: "items"}}})
		var out bytes.Buffer
		list(ctx, 4, marshal).MarshalGQL(&out)
		return out.String(), graphql.GetErrors(ctx).Error()
	}
	theirs := func(ctx context.Context, n int, m func(context.Context, int) graphql.Marshaler) graphql.Array {
		return graphql.MarshalSliceConcurrently(ctx, n, 0, false, m)
	}
	want, wantErrs := run(theirs)
	got, gotErrs := run(marshalList)
	require.Equal(t, `["items[0]","items[1]",null,"items[3]"]`, want)
	require.Equal(t, want, got)
	require.Contains(t, wantErrs, "items[2]")
	require.Equal(t, wantErrs, gotErrs)

	got, _ = run(func(ctx context.Context, _ int, m func(context.Context, int) graphql.Marshaler) graphql.Array {
		return marshalList(ctx, 0, m)
	})
	require.Equal(t, "[]", got)
}

// quietRecover is gqlgen's DefaultRecover without the stack it prints.
func quietRecover(_ context.Context, err any) error {
	return fmt.Errorf("internal system error: %v", err)
}

// TestStringListAsGqlgen: a list of strings, and one written from where it is, are
// written as gqlgen writes its array of MarshalString's, strings that JSON escapes
// and empty lists included; holding the one is one allocation, the other none. (Run alone: AllocsPerRun counts every goroutine's.)
func TestStringListAsGqlgen(t *testing.T) { //nolint:paralleltest // see above
	for _, v := range [][]models.Platform{nil, {}, {"LINKEDIN"}, {"a\"b", "tab\there", "<&>", "\u2028", "ünï", ""}} {
		gqlgens := make(graphql.Array, len(v))
		for i := range v {
			gqlgens[i] = graphql.MarshalString(string(v[i]))
		}
		var want, got bytes.Buffer
		gqlgens.MarshalGQL(&want)
		marshalStrings(v).MarshalGQL(&got)
		require.Equal(t, want.String(), got.String())
		got.Reset()
		marshalStringsAt(&v).MarshalGQL(&got)
		require.Equal(t, want.String(), got.String(), "from where it is")
	}
	v := []string{"a", "b", "c"}
	var sink graphql.Marshaler
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() { sink = marshalStrings(v) }))
	require.NotNil(t, sink)
	require.Zero(t, testing.AllocsPerRun(100, func() { sink = marshalStringsAt(&v) }), "a pointer")
}
