package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
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

// TestHeaderKeysAreCanonical: header reads a request's header map by the key it is
// given, so every key the middleware reads that way must be the one net/http files
// the header under.
func TestHeaderKeysAreCanonical(t *testing.T) {
	for _, key := range []string{"Upgrade", "Accept", "Origin", "Authorization", "X-Forwarded-For", teamHeader, csrfKey} {
		assert.Equal(t, http.CanonicalHeaderKey(key), key)
	}
	h := http.Header{}
	h.Add(strings.ToLower(csrfHeader), "1")
	assert.Equal(t, "1", header(h, csrfKey))
	assert.Empty(t, header(h, "Origin"))
}
