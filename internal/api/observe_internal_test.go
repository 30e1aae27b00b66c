package api

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestRootField: the subscriptions gauge's field label is the subscription's root
// field, written out, in an inline fragment or in a spread fragment (one spreading
// another too), as gqlgen's CollectFields finds it.
func TestRootField(t *testing.T) {
	t.Parallel()
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
type Query { a: Int }
type Subscription { chat: String  accountEvents: String }`})
	for query, want := range map[string]string{
		`subscription { chat }`:                                     "chat",
		`subscription { ... on Subscription { chat } }`:             "chat",
		`subscription { ...F } fragment F on Subscription { chat }`: "chat",
		`subscription { ...G } fragment G on Subscription { ...F } fragment F on Subscription { accountEvents }`: "accountEvents",
	} {
		doc, errs := gqlparser.LoadQueryWithRules(schema, query, nil)
		require.Empty(t, errs, query)
		require.Equal(t, want, rootField(doc.Operations[0].SelectionSet, 0), query)
	}
}
