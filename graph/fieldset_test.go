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

// TestFieldSetIsOneAllocation: an object's field set is one allocation, gqlgen's
// FieldSet and the values inside it, up to 16 fields; two above, and with a
// deferred field, gqlgen's (whose copy of the fields serves @defer's views).
func TestFieldSetIsOneAllocation(t *testing.T) {
	for _, tc := range []struct {
		fields   int
		deferred bool
		allocs   float64
	}{
		{0, false, 1}, {1, false, 1}, {4, false, 1}, {5, false, 1}, {8, false, 1},
		{9, false, 1}, {16, false, 1}, {17, false, 2}, {40, false, 2}, {3, true, 2},
	} {
		fields := make([]graphql.CollectedField, tc.fields)
		if tc.deferred {
			fields[1].Deferrables = []*graphql.Deferrable{{Label: "later"}}
		}
		var sink *fieldSet
		allocs := testing.AllocsPerRun(100, func() { sink = newFieldSet(fields) })
		require.Equal(t, tc.allocs, allocs, "%d fields, deferred %v", tc.fields, tc.deferred)
		require.Len(t, sink.Values, tc.fields)
		for i := range sink.Values {
			require.Nil(t, sink.Values[i])
		}
	}
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
