package api

import (
	"net/http"
	"os"
	"path/filepath"
	"regexp"
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

// TestHeaderKeysAreCanonical: header, and a read of a request's header map by index,
// find a header only under the key net/http files it under (its canonical form):
// every key the package's code reads that way must be canonical.
func TestHeaderKeysAreCanonical(t *testing.T) {
	named := map[string]string{"teamHeader": teamHeader, "csrfKey": csrfKey}
	reads := regexp.MustCompile(`(?:\bheader\([^,()]+, |Header\[)("[^"]*"|\w+)[)\]]`)
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	found := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		require.NoError(t, err)
		for _, m := range reads.FindAllStringSubmatch(string(src), -1) {
			key, ok := strings.CutPrefix(m[1], `"`)
			if ok {
				key = strings.TrimSuffix(key, `"`)
			} else if key, ok = named[m[1]]; !ok {
				t.Errorf("%s: %s reads the header named by %s: add it to this test's names", file, m[0], m[1])
				continue
			}
			found++
			assert.Equal(t, http.CanonicalHeaderKey(key), key, "%s: %s", file, m[0])
		}
	}
	assert.GreaterOrEqual(t, found, 8, "the reads this test looks for are still written so")
	h := http.Header{}
	h.Add(strings.ToLower(csrfHeader), "1")
	assert.Equal(t, "1", header(h, csrfKey))
	assert.Empty(t, header(h, "Origin"))
}
