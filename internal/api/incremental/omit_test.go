package incremental_test

import (
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/inkgraph/inkgraph/internal/api/incremental"
)

const omitSchema = `
directive @defer(if: Boolean = true, label: String) on FRAGMENT_SPREAD | INLINE_FRAGMENT
type Query { viewer: Viewer! list: [Item!]! }
type Viewer { id: ID! slow: Int! name: String }
type Item { id: ID! extra: String }
`

func operation(t *testing.T, query string, vars map[string]any) *graphql.OperationContext {
	t.Helper()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: omitSchema})
	doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
	require.Empty(t, errs)
	return &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: vars}
}

// TestOmitPlaceholders: the deferred fields gqlgen writes as null in the first
// response are dropped, in objects and in lists, and nothing else is; a field also
// selected outside the fragment stays.
func TestOmitPlaceholders(t *testing.T) {
	t.Parallel()
	yes := true
	query := `query($d: Boolean!) {
		viewer { id ... @defer(label: "v") { slow name } }
		list { id ...Later @defer(if: $d) }
		also: viewer { ... @defer { id } id }
	}
	fragment Later on Item { extra }`
	first := &graphql.Response{
		Data:    json.RawMessage(`{"viewer":{"id":"1","slow":null,"name":null},"list":[{"id":"a","extra":null},{"id":"b","extra":null}],"also":{"id":"1"}}`),
		HasNext: &yes,
	}
	got, err := incremental.OmitPlaceholders(operation(t, query, map[string]any{"d": true}), first)
	require.NoError(t, err)
	require.JSONEq(t, `{"viewer":{"id":"1"},"list":[{"id":"a"},{"id":"b"}],"also":{"id":"1"}}`, string(got.Data))
	require.Equal(t, `{"viewer":{"id":"1","slow":null,"name":null},"list":[{"id":"a","extra":null},{"id":"b","extra":null}],"also":{"id":"1"}}`,
		string(first.Data), "first is left as it was")

	// With if: false the list's fragment is not deferred: its nulls are real.
	got, err = incremental.OmitPlaceholders(operation(t, query, map[string]any{"d": false}), first)
	require.NoError(t, err)
	require.JSONEq(t, `{"viewer":{"id":"1"},"list":[{"id":"a","extra":null},{"id":"b","extra":null}],"also":{"id":"1"}}`, string(got.Data))

	// Not deferred, or data null: returned as it is.
	plain := &graphql.Response{Data: json.RawMessage(`{"viewer":{"id":"1","slow":null}}`)}
	got, err = incremental.OmitPlaceholders(operation(t, query, map[string]any{"d": true}), plain)
	require.NoError(t, err)
	require.Same(t, plain, got)
	null := &graphql.Response{Data: json.RawMessage(`null`), HasNext: &yes}
	got, err = incremental.OmitPlaceholders(operation(t, query, map[string]any{"d": true}), null)
	require.NoError(t, err)
	require.Same(t, null, got)
}
