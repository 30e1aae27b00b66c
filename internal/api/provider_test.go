package api_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/oidcop"
)

const signInWithProviderMutation = `mutation($idToken: String!) {
	signInWithProvider(input: {idToken: $idToken}) { accessToken refreshToken user { id email } }
}`

// TestSignInWithProviderOverHTTP: through the real HTTP server, a frontend lists the
// configured identity providers without signing in, and an ID token of the real OP
// (zitadel's example) signs its user in with a working access token; a token of an
// OP the server does not trust is UNAUTHENTICATED on field idToken.
func TestSignInWithProviderOverHTTP(t *testing.T) {
	t.Parallel()
	ann := oidcop.User{ID: "sub-ann", Username: "ann", Password: "pw-ann", Email: "ann@example.com", EmailVerified: true}
	op, untrusted := oidcop.Start(t, ann), oidcop.Start(t, ann)
	ts := serve(t, newApp(t, testkit.SQLite, func(c *config.Config) {
		c.OIDCProviders = []config.OIDCProvider{{Issuer: op.Issuer, Audience: oidcop.ClientWeb}}
	}))

	listed := graphqlRequest(t, ts.URL, false, map[string]any{"query": `{ identityProviders { issuer audience } }`})
	require.Empty(t, listed.errors)
	require.Equal(t, []any{map[string]any{"issuer": op.Issuer, "audience": "web"}}, listed.data["identityProviders"])

	signIn := func(token string) apqAnswer {
		return graphqlRequest(t, ts.URL, false, map[string]any{
			"query": signInWithProviderMutation, "variables": map[string]any{"idToken": token},
		})
	}
	got := signIn(op.IDToken(oidcop.ClientWeb, ann))
	require.Empty(t, got.errors)
	payload := got.data["signInWithProvider"].(map[string]any)
	require.Equal(t, "ann@example.com", payload["user"].(map[string]any)["email"])

	_, _, me := postGraphQL(t, ts.URL, "application/json", payload["accessToken"].(string), `{ me { id email } }`)
	var data struct {
		Me struct{ ID, Email string }
	}
	require.NoError(t, json.Unmarshal(me["data"], &data), "%s", me["errors"])
	require.Equal(t, payload["user"].(map[string]any)["id"], data.Me.ID)

	refused := signIn(untrusted.IDToken(oidcop.ClientWeb, ann))
	require.Len(t, refused.errors, 1)
	require.Equal(t, "UNAUTHENTICATED", refused.errors[0].Extensions["code"])
	require.Equal(t, "idToken", refused.errors[0].Extensions["field"])
	require.Contains(t, refused.errors[0].Message, "is not a configured identity provider")
}
