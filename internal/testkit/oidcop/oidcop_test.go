package oidcop_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/oidcop"
)

// claims decodes a JWT's header and payload without verifying it: the verifier's
// tests verify; this one checks what the OP put in.
func claims(t *testing.T, token string) (header, payload map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3)
	for i, into := range []*map[string]any{&header, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		require.NoError(t, err)
		require.NoError(t, json.Unmarshal(raw, into))
	}
	return header, payload
}

func TestIDTokenAndRestartRotatesTheKey(t *testing.T) {
	t.Parallel()
	alice := oidcop.User{ID: "alice-1", Username: "alice", Password: "pw-alice", Email: "alice@example.com", EmailVerified: true}
	op := oidcop.Start(t, alice)

	header, payload := claims(t, op.IDToken(oidcop.ClientWeb, alice))
	require.Equal(t, "RS256", header["alg"])
	require.Equal(t, op.Issuer, payload["iss"])
	require.Equal(t, "alice-1", payload["sub"])
	require.Equal(t, []any{oidcop.ClientWeb}, payload["aud"])
	require.Equal(t, "alice@example.com", payload["email"])
	require.Equal(t, true, payload["email_verified"])

	op.Restart()
	rotated, _ := claims(t, op.IDToken(oidcop.ClientWeb, alice))
	require.NotEqual(t, header["kid"], rotated["kid"], "a restart gives the OP a new signing key")
}
