package graph

import (
	"bytes"
	"context"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
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
