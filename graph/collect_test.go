package graph

import (
	"context"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
)

// operations returns a function that prepares query as the server does, with a
// query cache, so that every operation of one document shares its parsed selection
// sets; it returns the operation and the selection set of its first field.
func operations(t *testing.T) func(query string, vars map[string]any) (*graphql.OperationContext, ast.SelectionSet) {
	exec := executor.New(NewExecutableSchema(Config{}))
	exec.SetQueryCache(lru.New[*ast.QueryDocument](10))
	return func(query string, vars map[string]any) (*graphql.OperationContext, ast.SelectionSet) {
		t.Helper()
		ctx := graphql.StartOperationTrace(context.Background())
		oc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query, Variables: vars})
		require.Empty(t, errs)
		return oc, oc.Operation.SelectionSet[0].(*ast.Field).SelectionSet
	}
}

// TestCollectFieldsRemembered: a selection set without a directive, fragments
// spread and inline included, is collected once for every operation of its document,
// with gqlgen's fields, and then costs nothing; another document's is its own.
func TestCollectFieldsRemembered(t *testing.T) { // not parallel: it counts allocations
	prepare := operations(t)
	const query = `{ plans { tier ...F ... on Plan { byok } agents } } fragment F on Plan { batch agents }`

	oc, sel := prepare(query, nil)
	first := collectFields(oc, sel, planImplementors)
	require.Equal(t, graphql.CollectFields(oc, sel, planImplementors), first)
	require.Equal(t, []string{"tier", "batch", "agents", "byok"}, names(first))

	oc2, sel2 := prepare(query, nil)
	require.Same(t, &sel[0], &sel2[0], "the query cache shares the document")
	again := collectFields(oc2, sel2, planImplementors)
	require.Same(t, &first[0], &again[0], "remembered from the first operation")
	require.Zero(t, testing.AllocsPerRun(100, func() { collectFields(oc2, sel2, planImplementors) }))

	oc3, sel3 := prepare(`{ plans { byok tier } }`, nil)
	require.Equal(t, []string{"byok", "tier"}, names(collectFields(oc3, sel3, planImplementors)))
}

// TestCollectFieldsWithDirectives: where a directive decides what is selected (on a
// field, an inline fragment, a spread or inside a spread fragment), the fields are
// collected for each operation's variables, as gqlgen collects them.
func TestCollectFieldsWithDirectives(t *testing.T) {
	t.Parallel()
	prepare := operations(t)
	for name, query := range map[string]string{
		"field":                `query($s: Boolean!) { plans { tier agents @skip(if: $s) } }`,
		"inline fragment":      `query($s: Boolean!) { plans { tier ... @skip(if: $s) { agents } } }`,
		"spread":               `query($s: Boolean!) { plans { tier ...F @skip(if: $s) } } fragment F on Plan { agents }`,
		"inside the fragment":  `query($s: Boolean!) { plans { tier ...F } } fragment F on Plan { agents @skip(if: $s) }`,
		"in a nested fragment": `query($s: Boolean!) { plans { tier ...F } } fragment F on Plan { ...G } fragment G on Plan { agents @include(if: $s) }`,
	} {
		t.Run(name, func(t *testing.T) {
			skips := map[bool][]string{true: {"tier"}, false: {"tier", "agents"}}
			if name == "in a nested fragment" { // @include: the other way round
				skips = map[bool][]string{false: {"tier"}, true: {"tier", "agents"}}
			}
			for range 2 { // the second round would be answered by the table
				for _, s := range []bool{false, true} {
					oc, sel := prepare(query, map[string]any{"s": s})
					got := collectFields(oc, sel, planImplementors)
					require.Equal(t, skips[s], names(got), "s=%v", s)
					require.Equal(t, graphql.CollectFields(oc, sel, planImplementors), got)
				}
			}
		})
	}
}

func names(fields []graphql.CollectedField) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Alias
	}
	return out
}
