package api

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

func TestOperationNamesAreBounded(t *testing.T) {
	t.Parallel()
	var n operationNames
	require.Equal(t, "anonymous", n.label(""))
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range maxOperationNames {
				n.label(fmt.Sprintf("Op%d", (i+w)%maxOperationNames))
			}
		})
	}
	wg.Wait()
	require.Equal(t, maxOperationNames, n.count)
	require.Equal(t, "Op7", n.label("Op7"), "a name seen keeps its label")
	require.Equal(t, "other", n.label("OneTooMany"), "beyond the bound: other")
	require.Equal(t, "other", n.label("OneTooMany"))
	require.Equal(t, "anonymous", n.label(""))
}

func TestOutcome(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		resp *graphql.Response
		want string
	}{
		{nil, "OK"},
		{&graphql.Response{}, "OK"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": "RATE_LIMITED"}}, {Extensions: map[string]any{"code": "INTERNAL"}}}}, "RATE_LIMITED"},
		{&graphql.Response{Errors: gqlerror.List{{Message: "no code"}}}, "UNKNOWN"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": "lower-case"}}}}, "UNKNOWN"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": strings.Repeat("A", 41)}}}}, "UNKNOWN"},
		{&graphql.Response{Errors: gqlerror.List{{Extensions: map[string]any{"code": 42}}}}, "UNKNOWN"},
	} {
		require.Equal(t, tc.want, outcome(tc.resp))
	}
}

func TestRequestIDsAndLabels(t *testing.T) {
	t.Parallel()
	for id, sane := range map[string]bool{
		"abc-123": true, "A.b_c-9": true, strings.Repeat("x", 64): true,
		"": false, strings.Repeat("x", 65): false, "bad id": false, "é": false, "a/b": false, "a\n": false,
	} {
		require.Equal(t, sane, saneRequestID(id), "%q", id)
	}
	require.Equal(t, "POST", methodLabel("POST"))
	require.Equal(t, "OTHER", methodLabel("BREW"))
	require.Equal(t, "200", statusLabel(200))
	require.Equal(t, "999", statusLabel(999))
	require.Equal(t, "/webhooks/stripe", patternRoute("POST /webhooks/stripe"))
	require.Equal(t, "/graphql", patternRoute("/graphql"))
}
