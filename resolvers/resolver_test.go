package resolvers

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// The schema NewSchema returns costs every field as the generated schema does with
// NewSchema's cost functions: costedFields names each field that has one.
func TestCostedSchemaCostsAsGenerated(t *testing.T) {
	t.Parallel()
	costed := NewSchema(&Resolver{}).(costedSchema)
	ctx := context.Background()
	first := 7
	seen := map[string]bool{}
	for _, typ := range costed.Schema().Types {
		if typ.Kind != ast.Object {
			continue
		}
		for _, f := range typ.Fields {
			for _, args := range []map[string]any{{}, {"first": first}} {
				want, wantOK := costed.ExecutableSchema.Complexity(ctx, typ.Name, f.Name, 3, args)
				got, gotOK := costed.Complexity(ctx, typ.Name, f.Name, 3, args)
				require.Equal(t, wantOK, gotOK, "%s.%s", typ.Name, f.Name)
				require.Equal(t, want, got, "%s.%s", typ.Name, f.Name)
				if wantOK {
					seen[typ.Name+"."+f.Name] = true
				}
			}
		}
	}
	require.Equal(t, costedFields, seen, "every costed field has a cost function")
	got, _ := costed.Complexity(ctx, "Query", "backups", 3, map[string]any{"first": first})
	require.Equal(t, first*4, got, "first items of 1 + their children")
}
