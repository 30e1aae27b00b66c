package auth_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestAccessTokens(t *testing.T) {
	t.Parallel()
	c := testkit.NewClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	cfg := auth.TokenConfig{Secret: secret, Issuer: "inkgraph", Audience: "inkgraph-api", TTL: 15 * time.Minute}
	tokens := auth.NewTokens(cfg, c.Now)
	good, exp, err := tokens.Issue("user-1", "session-1")
	require.NoError(t, err)
	require.Equal(t, c.Now().Add(15*time.Minute), exp)

	caller, err := tokens.Verify(good)
	require.NoError(t, err)
	require.Equal(t, models.Caller{UserID: "user-1", SessionID: "session-1", ExpiresAt: exp}, caller)

	// sign makes a token with chosen claims and header, signed with key.
	sign := func(method jwt.SigningMethod, key any, typ string, mutate func(jwt.MapClaims)) string {
		claims := jwt.MapClaims{
			"iss": "inkgraph", "aud": "inkgraph-api", "sub": "user-1", "sid": "session-1", "jti": "j1",
			"iat": c.Now().Unix(), "exp": c.Now().Add(time.Minute).Unix(),
		}
		if mutate != nil {
			mutate(claims)
		}
		tok := jwt.NewWithClaims(method, claims)
		if typ != "" {
			tok.Header["typ"] = typ
		}
		s, err := tok.SignedString(key)
		require.NoError(t, err)
		return s
	}
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	tamperedPayload := strings.Replace(string(payload), "user-1", "user-2", 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tamperedPayload)) + "." + parts[2]
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt"}`))

	for _, tc := range []struct {
		name, token, contains string
	}{
		{"control: freshly signed", sign(jwt.SigningMethodHS256, secret, "at+jwt", nil), ""},
		{"empty", "", "invalid"},
		{"garbage", "not.a.jwt", "invalid"},
		{"tampered payload", tampered, "invalid"},
		{"alg none", noneHeader + "." + parts[1] + ".", "invalid"},
		{"HS512 with the right key", sign(jwt.SigningMethodHS512, secret, "at+jwt", nil), "invalid"},
		{"other key", sign(jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), "at+jwt", nil), "invalid"},
		{"wrong audience", sign(jwt.SigningMethodHS256, secret, "at+jwt", func(m jwt.MapClaims) { m["aud"] = "billing" }), "invalid"},
		{"wrong issuer", sign(jwt.SigningMethodHS256, secret, "at+jwt", func(m jwt.MapClaims) { m["iss"] = "evil" }), "invalid"},
		{"no typ", sign(jwt.SigningMethodHS256, secret, "", nil), "invalid"},
		{"other typ", sign(jwt.SigningMethodHS256, secret, "JWT", nil), "invalid"},
		{"no exp", sign(jwt.SigningMethodHS256, secret, "at+jwt", func(m jwt.MapClaims) { delete(m, "exp") }), "invalid"},
		{"no session", sign(jwt.SigningMethodHS256, secret, "at+jwt", func(m jwt.MapClaims) { delete(m, "sid") }), "invalid"},
		{"issued in the future", sign(jwt.SigningMethodHS256, secret, "at+jwt", func(m jwt.MapClaims) { m["iat"] = c.Now().Add(time.Hour).Unix() }), "invalid"},
		{"expired", sign(jwt.SigningMethodHS256, secret, "at+jwt", func(m jwt.MapClaims) { m["exp"] = c.Now().Add(-time.Second).Unix() }), "expired"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tokens.Verify(tc.token)
			if tc.contains == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, models.CodeUnauthenticated, models.ErrorCode(err))
			require.Contains(t, models.ErrorMessage(err), tc.contains)
		})
	}

	t.Run("a token expires with the clock", func(t *testing.T) {
		later := testkit.NewClock(c.Now().Add(16 * time.Minute))
		_, err := auth.NewTokens(cfg, later.Now).Verify(good)
		require.Equal(t, models.CodeUnauthenticated, models.ErrorCode(err))
		require.Contains(t, models.ErrorMessage(err), "expired")
	})
}

// A token Verify accepted is accepted again without being parsed, but only while the
// clock is within the times it is valid for: each answer is the one a first check
// would give.
func TestAccessTokensVerifiedAgain(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	c := testkit.NewClock(start)
	cfg := auth.TokenConfig{Secret: secret, Issuer: "inkgraph", Audience: "inkgraph-api", TTL: 15 * time.Minute}
	tokens := auth.NewTokens(cfg, c.Now)
	good, exp, err := tokens.Issue("user-1", "session-1")
	require.NoError(t, err)
	want := models.Caller{UserID: "user-1", SessionID: "session-1", ExpiresAt: exp}
	for range 3 {
		caller, err := tokens.Verify(good)
		require.NoError(t, err)
		require.Equal(t, want, caller)
	}

	// The same token with another signature, or signed again with one byte of its
	// payload changed, is not the token accepted.
	parts := strings.Split(good, ".")
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	require.NoError(t, err)
	sig[0] ^= 1
	_, err = tokens.Verify(parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig))
	require.Equal(t, models.CodeUnauthenticated, models.ErrorCode(err))
	require.Contains(t, models.ErrorMessage(err), "invalid")

	t.Run("not before, and without iat", func(t *testing.T) {
		sign := func(mutate func(jwt.MapClaims)) string {
			claims := jwt.MapClaims{"iss": "inkgraph", "aud": "inkgraph-api", "sub": "user-2", "sid": "session-2", "jti": "j2",
				"iat": start.Unix(), "exp": start.Add(time.Hour).Unix()}
			mutate(claims)
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
			tok.Header["typ"] = "at+jwt"
			s, err := tok.SignedString(secret)
			require.NoError(t, err)
			return s
		}
		later := sign(func(m jwt.MapClaims) { m["nbf"] = start.Add(time.Minute).Unix() })
		noIAT := sign(func(m jwt.MapClaims) { delete(m, "iat") })
		c.Set(start.Add(time.Minute))
		for range 2 {
			_, err := tokens.Verify(later)
			require.NoError(t, err)
			_, err = tokens.Verify(noIAT)
			require.NoError(t, err)
		}
		c.Set(start.Add(time.Second))
		_, err := tokens.Verify(later)
		require.Equal(t, models.CodeUnauthenticated, models.ErrorCode(err), "before its nbf, though accepted since")
		_, err = tokens.Verify(noIAT)
		require.NoError(t, err)
		c.Set(start)
	})
	t.Run("a clock before the token was issued", func(t *testing.T) {
		c.Set(start.Add(-time.Second))
		_, err := tokens.Verify(good)
		require.Equal(t, models.CodeUnauthenticated, models.ErrorCode(err))
		require.Contains(t, models.ErrorMessage(err), "invalid")
		c.Set(start)
		_, err = tokens.Verify(good)
		require.NoError(t, err)
	})
	t.Run("the last moment, then expired", func(t *testing.T) {
		c.Set(exp.Add(-time.Nanosecond))
		_, err := tokens.Verify(good)
		require.NoError(t, err)
		c.Set(exp)
		_, err = tokens.Verify(good)
		require.Equal(t, models.CodeUnauthenticated, models.ErrorCode(err))
		require.Contains(t, models.ErrorMessage(err), "expired")
	})
}
