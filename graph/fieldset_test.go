package graph

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestFieldSetWritesWhatGqlgenWrites: an object is written with the bytes gqlgen's
// FieldSet gives it: empty, small, with a repeated name (written once, the first),
// and past the size where names are checked with a map.
func TestFieldSetWritesWhatGqlgenWrites(t *testing.T) {
	t.Parallel()
	field := func(alias string) graphql.CollectedField {
		return graphql.CollectedField{Field: &ast.Field{Alias: alias, Name: alias}}
	}
	sets := map[string][]graphql.CollectedField{
		"empty":    nil,
		"one":      {field("tier")},
		"repeated": {field("a"), field("b"), field("a"), field("_c9")},
	}
	var large []graphql.CollectedField
	for i := range smallFieldSet + 5 {
		large = append(large, field(fmt.Sprintf("f%d", i%(smallFieldSet+2))))
	}
	sets["large, with repeats"] = large
	for name, fields := range sets {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			theirs, ours := graphql.NewFieldSet(fields), newFieldSet(fields)
			for i := range fields {
				v := graphql.MarshalString(fmt.Sprintf("v%d <&>", i))
				if i%3 == 1 {
					v = graphql.Null
				}
				theirs.Values[i], ours.Values[i] = v, v
			}
			var want, got bytes.Buffer
			theirs.MarshalGQL(&want)
			ours.MarshalGQL(&got)
			require.Equal(t, want.String(), got.String())
		})
	}
}

// BenchmarkFieldSet prices writing an object of twelve fields, gqlgen's way and ours.
func BenchmarkFieldSet(b *testing.B) {
	var fields []graphql.CollectedField
	for i := range 12 {
		fields = append(fields, graphql.CollectedField{Field: &ast.Field{Alias: fmt.Sprintf("field%d", i)}})
	}
	theirs, ours := graphql.NewFieldSet(fields), newFieldSet(fields)
	for i := range fields {
		theirs.Values[i], ours.Values[i] = graphql.Null, graphql.Null
	}
	var buf bytes.Buffer
	for _, m := range []struct {
		name string
		set  graphql.Marshaler
	}{{"gqlgen", theirs}, {"ours", ours}} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				m.set.MarshalGQL(&buf)
			}
		})
	}
}

// TestFieldSetIsTwoAllocations: an object's field set is the set itself, gqlgen's
// FieldSet inside it, and its values, not a separate allocation for gqlgen's part.
func TestFieldSetIsTwoAllocations(t *testing.T) {
	fields := make([]graphql.CollectedField, 3)
	var sink *fieldSet
	allocs := testing.AllocsPerRun(100, func() { sink = newFieldSet(fields) })
	require.Equal(t, 2.0, allocs)
	require.Len(t, sink.Values, 3)
}

// TestTypeNameIsFree: an object's __typename is written as gqlgen writes it, and
// neither holding nor writing it allocates.
func TestTypeNameIsFree(t *testing.T) {
	var want, got bytes.Buffer
	graphql.MarshalString("OnboardingStep").MarshalGQL(&want)
	var m graphql.Marshaler
	allocs := testing.AllocsPerRun(100, func() {
		got.Reset()
		m = typeName("OnboardingStep")
		m.MarshalGQL(&got)
	})
	require.Equal(t, want.String(), got.String())
	require.Zero(t, allocs)
}
