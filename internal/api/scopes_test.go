package api_test

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/resolvers"
)

// TestREADMEScopeTableIsTheSchemas: README's table of what each API key scope allows
// lists exactly the root fields the schema marks with that scope.
func TestREADMEScopeTableIsTheSchemas(t *testing.T) {
	t.Parallel()
	schema := resolvers.NewSchema(&resolvers.Resolver{}).Schema()
	want := map[string][]string{}
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		for _, f := range schema.Types[root].Fields {
			if d := f.Directives.ForName("scope"); d != nil {
				scope := d.Arguments.ForName("requires").Value.Raw
				want[scope] = append(want[scope], f.Name)
			}
		}
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	row := regexp.MustCompile("(?m)^\\| `([A-Z]+)` \\| (.*) \\|$")
	got := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		if _, ok := want[m[1]]; !ok {
			continue // another table's row
		}
		for _, name := range strings.Split(m[2], ", ") {
			got[m[1]] = append(got[m[1]], strings.Trim(name, "`"))
		}
	}
	for scope := range want {
		slices.Sort(want[scope])
		slices.Sort(got[scope])
	}
	require.Equal(t, want, got, "README's API key scope table")
}
