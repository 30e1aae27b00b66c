package oidc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// issuer is a minimal OpenID provider of the test's own: a discovery document and a
// key set the test changes, with every fetch of either counted. The integration proof
// against a real provider is in internal/auth (provider_test.go); this one tests the
// verifier's own logic with keys the test signs with.
type issuer struct {
	srv *httptest.Server
	// docIssuer is what the discovery document says the issuer is ("" means srv.URL).
	docIssuer string
	// jwksURI is the discovery document's jwks_uri ("" means srv.URL + "/jwks").
	jwksURI      string
	mu           sync.Mutex
	keys         []jose.JSONWebKey
	cacheControl string
	discoveries  atomic.Int32
	fetches      atomic.Int32
	// gate, when not nil, holds every key-set response until it is closed.
	gate chan struct{}
	// down makes both endpoints answer 503.
	down atomic.Bool
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	is := &issuer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		is.discoveries.Add(1)
		name := is.docIssuer
		if name == "" {
			name = is.srv.URL
		}
		jwks := is.jwksURI
		if jwks == "" {
			jwks = is.srv.URL + "/jwks"
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"issuer": name, "jwks_uri": jwks})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.fetches.Add(1)
		if is.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		is.mu.Lock()
		gate, keys, cc := is.gate, is.keys, is.cacheControl
		is.mu.Unlock()
		if gate != nil {
			<-gate
		}
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: keys})
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

// signer is a private key with its key ID and algorithm.
type signer struct {
	kid string
	alg jose.SignatureAlgorithm
	key any
}

func newSigner(t *testing.T, kid string, alg jose.SignatureAlgorithm) signer {
	t.Helper()
	var key any
	var err error
	switch alg {
	case jose.RS256, jose.PS256:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.ES256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.EdDSA:
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	require.NoError(t, err)
	return signer{kid: kid, alg: alg, key: key}
}

// publish puts the signers' public keys in the issuer's key set, with the key's alg
// set to keyAlg when given (else to the signer's).
func (is *issuer) publish(signers ...signer) {
	var keys []jose.JSONWebKey
	for _, s := range signers {
		k := jose.JSONWebKey{Key: s.key, KeyID: s.kid, Algorithm: string(s.alg), Use: "sig"}
		keys = append(keys, k.Public())
	}
	is.mu.Lock()
	is.keys = keys
	is.mu.Unlock()
}

func (s signer) sign(t *testing.T, claims map[string]any, header map[jose.HeaderKey]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	for k, v := range header {
		if v == nil {
			delete(opts.ExtraHeaders, k)
			continue
		}
		opts = opts.WithHeader(k, v)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: s.alg, Key: jose.JSONWebKey{Key: s.key, KeyID: s.kid}}, opts)
	require.NoError(t, err)
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	jws, err := sig.Sign(payload)
	require.NoError(t, err)
	out, err := jws.CompactSerialize()
	require.NoError(t, err)
	return out
}

var start = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func (is *issuer) claims(now time.Time) map[string]any {
	return map[string]any{
		"iss": is.srv.URL, "sub": "subject-1", "aud": "client-1", "azp": "client-1",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"email": "ann@example.com", "email_verified": true,
	}
}

func newVerifier(t *testing.T, clock *testkit.Clock, algs []string, issuers ...*issuer) *oidc.Verifier {
	t.Helper()
	var providers []oidc.Provider
	for _, is := range issuers {
		providers = append(providers, oidc.Provider{Issuer: is.srv.URL, Audience: "client-1"})
	}
	v, err := oidc.New(oidc.Config{Providers: providers, Algorithms: algs, Now: clock.Now})
	require.NoError(t, err)
	return v
}

func requireInvalid(t *testing.T, err error, says string) {
	t.Helper()
	require.ErrorIs(t, err, oidc.ErrInvalidToken)
	require.Contains(t, err.Error(), says)
}

func TestVerify(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	rs := newSigner(t, "rs", jose.RS256)
	es := newSigner(t, "es", jose.ES256)
	ed := newSigner(t, "ed", jose.EdDSA)
	ps := newSigner(t, "ps", jose.PS256)
	is.publish(rs, es, ed, ps)
	clock := testkit.NewClock(start)
	v := newVerifier(t, clock, []string{"RS256", "ES256", "EdDSA"}, is)
	ctx := context.Background()

	for _, s := range []signer{rs, es, ed} {
		c, err := v.Verify(ctx, s.sign(t, is.claims(start), nil))
		require.NoError(t, err, s.alg)
		require.Equal(t, &oidc.Claims{
			Issuer: is.srv.URL, Subject: "subject-1", Email: "ann@example.com", EmailVerified: true,
			ExpiresAt: start.Add(time.Hour),
		}, c)
	}

	with := func(change map[string]any) map[string]any {
		c := is.claims(start)
		for k, v := range change {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	// A key published as RS256 that a token claims for PS256 (allowed by the list):
	// same key type, but the key's own alg forbids it (RFC 8725 §3.1).
	psWithRSKey := signer{kid: "rs", alg: jose.PS256, key: rs.key}
	withPS := newVerifier(t, clock, []string{"RS256", "PS256"}, is)
	_, err := withPS.Verify(ctx, psWithRSKey.sign(t, is.claims(start), nil))
	requireInvalid(t, err, `key "rs" is not for PS256`)
	// An ES256 token naming the RSA key: its type does not fit.
	_, err = v.Verify(ctx, signer{kid: "rs", alg: jose.ES256, key: es.key}.sign(t, is.claims(start), nil))
	requireInvalid(t, err, `key "rs" is not for ES256`)
	other := newSigner(t, "rs", jose.RS256) // same kid, another key: a forged signature
	for _, tc := range []struct {
		name  string
		token string
		says  string
	}{
		{"not allowed by the allowlist", ps.sign(t, is.claims(start), nil), "allowed algorithm"},
		{"forged signature", other.sign(t, is.claims(start), nil), "signature does not verify"},
		{"access token type", rs.sign(t, is.claims(start), map[jose.HeaderKey]any{jose.HeaderType: "at+jwt"}), `type (typ) is "at+jwt"`},
		{"unknown issuer", rs.sign(t, with(map[string]any{"iss": "https://evil.example.com"}), nil), "is not a configured identity provider"},
		{"wrong audience", rs.sign(t, with(map[string]any{"aud": "client-2", "azp": nil}), nil), "not issued to this application"},
		{"several audiences without azp", rs.sign(t, with(map[string]any{"aud": []string{"client-1", "client-2"}, "azp": nil}), nil), "no authorized party"},
		{"azp of another client", rs.sign(t, with(map[string]any{"azp": "client-2"}), nil), "another party"},
		{"no exp", rs.sign(t, with(map[string]any{"exp": nil}), nil), "no expiry"},
		{"expired beyond the leeway", rs.sign(t, with(map[string]any{"exp": start.Add(-2 * time.Minute).Unix()}), nil), "expired at"},
		{"not yet valid", rs.sign(t, with(map[string]any{"nbf": start.Add(5 * time.Minute).Unix()}), nil), "not valid before"},
		{"issued in the future", rs.sign(t, with(map[string]any{"iat": start.Add(5 * time.Minute).Unix()}), nil), "issued in the future"},
		{"no iat", rs.sign(t, with(map[string]any{"iat": nil}), nil), "no issue time"},
		{"no subject", rs.sign(t, with(map[string]any{"sub": nil}), nil), "no subject"},
		{"empty", "", "empty"},
		{"garbage", "a.b.c", "not a signed JWT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(ctx, tc.token)
			requireInvalid(t, err, tc.says)
		})
	}

	t.Run("within the leeway", func(t *testing.T) {
		_, err := v.Verify(ctx, rs.sign(t, with(map[string]any{"exp": start.Add(-30 * time.Second).Unix(), "nbf": start.Add(30 * time.Second).Unix()}), nil))
		require.NoError(t, err)
	})
	t.Run("no typ, several audiences with azp, email_verified as a string", func(t *testing.T) {
		c, err := v.Verify(ctx, rs.sign(t, with(map[string]any{"aud": []string{"client-2", "client-1"}, "email_verified": "true"}),
			map[jose.HeaderKey]any{jose.HeaderType: nil}))
		require.NoError(t, err)
		require.True(t, c.EmailVerified)
	})
	t.Run("none and HS256 are refused", func(t *testing.T) {
		header := `{"alg":"none","kid":"rs"}`
		payload, err := json.Marshal(is.claims(start))
		require.NoError(t, err)
		enc := base64.RawURLEncoding.EncodeToString
		_, err = v.Verify(ctx, enc([]byte(header))+"."+enc(payload)+".")
		requireInvalid(t, err, "allowed algorithm")
		// The classic confusion: an HMAC keyed with the provider's public key.
		_, err = oidc.New(oidc.Config{Algorithms: []string{"HS256"}})
		require.Error(t, err)
		hs, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
		require.NoError(t, err)
		jws, err := hs.Sign(payload)
		require.NoError(t, err)
		tok, err := jws.CompactSerialize()
		require.NoError(t, err)
		_, err = v.Verify(ctx, tok)
		requireInvalid(t, err, "allowed algorithm")
	})
	require.Equal(t, int32(2), is.discoveries.Load(), "discovery is read once per verifier")
}

func TestDiscoveryMustNameTheIssuerExactly(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	rs := newSigner(t, "rs", jose.RS256)
	is.publish(rs)
	is.docIssuer = "https://other.example.com"
	clock := testkit.NewClock(start)
	v := newVerifier(t, clock, []string{"RS256"}, is)
	_, err := v.Verify(context.Background(), rs.sign(t, is.claims(start), nil))
	require.Error(t, err)
	require.NotErrorIs(t, err, oidc.ErrInvalidToken, "a provider's misconfiguration is not the token's fault")
	require.Contains(t, err.Error(), "must be identical")
	require.Equal(t, int32(0), is.fetches.Load(), "no key set is read from a document that names another issuer")
}

// TestPlainHTTPOnlyOnLoopback: an issuer, and the jwks_uri its discovery document
// names, must be https; plain http is for loopback hosts only (where tests run).
func TestPlainHTTPOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for issuer, ok := range map[string]bool{
		"https://idp.example.com/":   true,
		"http://localhost:8080/":     true,
		"http://LocalHost:8080":      true,
		"http://127.0.0.1:9000":      true,
		"http://127.1.2.3:9000":      true,
		"http://[::1]:9000/":         true,
		"http://idp.example.com/":    false,
		"http://10.0.0.5:9000":       false,
		"http://localhost.evil.com/": false,
		"http://[::2]:9000/":         false,
		"ftp://idp.example.com/":     false,
	} {
		_, err := oidc.New(oidc.Config{Providers: []oidc.Provider{{Issuer: issuer, Audience: "a"}}, Algorithms: []string{"RS256"}})
		if ok {
			require.NoError(t, err, issuer)
		} else {
			require.ErrorContains(t, err, "must be an https URL", issuer)
		}
	}

	is := newIssuer(t)
	rs := newSigner(t, "rs", jose.RS256)
	is.publish(rs)
	is.jwksURI = "http://keys.example.com/jwks"
	v := newVerifier(t, testkit.NewClock(start), []string{"RS256"}, is)
	_, err := v.Verify(context.Background(), rs.sign(t, is.claims(start), nil))
	require.Error(t, err)
	require.NotErrorIs(t, err, oidc.ErrInvalidToken, "a provider's misconfiguration is not the token's fault")
	require.Contains(t, err.Error(), "names a jwks_uri that is not https")
	require.Equal(t, int32(0), is.fetches.Load())
}

// TestUnknownKeyIDRefetchesOnceAndBoundedly: a rotated key is found with one refetch;
// a flood of made-up key IDs, concurrent or one after another, costs at most one
// fetch per cooldown.
func TestUnknownKeyIDRefetchesOnceAndBoundedly(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	old := newSigner(t, "old", jose.RS256)
	is.publish(old)
	clock := testkit.NewClock(start)
	v := newVerifier(t, clock, []string{"RS256"}, is)
	ctx := context.Background()

	_, err := v.Verify(ctx, old.sign(t, is.claims(start), nil))
	require.NoError(t, err)
	require.Equal(t, int32(1), is.fetches.Load())

	// Within the cooldown an unknown kid is refused without a fetch.
	forger := newSigner(t, "made-up", jose.RS256)
	_, err = v.Verify(ctx, forger.sign(t, is.claims(start), nil))
	requireInvalid(t, err, `key "made-up" is not among`)
	require.Equal(t, int32(1), is.fetches.Load())

	// The provider rotates; after the cooldown the new kid costs one refetch.
	rotated := newSigner(t, "new", jose.RS256)
	is.publish(rotated)
	clock.Add(oidc.DefaultRefetchCooldown)
	_, err = v.Verify(ctx, rotated.sign(t, is.claims(clock.Now()), nil))
	require.NoError(t, err)
	require.Equal(t, int32(2), is.fetches.Load())
	_, err = v.Verify(ctx, old.sign(t, is.claims(clock.Now()), nil))
	requireInvalid(t, err, `key "old" is not among`)

	// A flood of random kids at once, after the cooldown: one fetch (held open a
	// while); the callers that come during it wait for it, those after it are refused
	// by the cooldown.
	clock.Add(oidc.DefaultRefetchCooldown)
	is.mu.Lock()
	is.gate = make(chan struct{})
	is.mu.Unlock()
	const flood = 50
	var wg sync.WaitGroup
	errs := make(chan error, flood)
	for i := range flood {
		tok := newSignerFrom(forger, fmt.Sprintf("random-%d", i)).sign(t, is.claims(clock.Now()), nil)
		wg.Go(func() {
			_, err := v.Verify(ctx, tok)
			errs <- err
		})
	}
	require.Eventually(t, func() bool { return is.fetches.Load() == 3 }, 10*time.Second, time.Millisecond)
	is.mu.Lock()
	close(is.gate)
	is.gate = nil
	is.mu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.ErrorIs(t, err, oidc.ErrInvalidToken)
	}
	require.Equal(t, int32(3), is.fetches.Load(), "%d unknown kids cost one fetch", flood)
	require.Equal(t, int32(1), is.discoveries.Load())
}

func newSignerFrom(s signer, kid string) signer { s.kid = kid; return s }

// TestKeysAreReadAgainAsCacheControlSays: max-age within bounds decides when the
// cached keys go stale; a provider that cannot be reached then leaves the old keys
// in use.
func TestKeysAreReadAgainAsCacheControlSays(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	rs := newSigner(t, "rs", jose.RS256)
	is.publish(rs)
	is.cacheControl = "public, max-age=600"
	clock := testkit.NewClock(start)
	v := newVerifier(t, clock, []string{"RS256"}, is)
	ctx := context.Background()
	verify := func() error {
		_, err := v.Verify(ctx, rs.sign(t, is.claims(clock.Now()), nil))
		return err
	}
	require.NoError(t, verify())
	clock.Add(9 * time.Minute)
	require.NoError(t, verify())
	require.Equal(t, int32(1), is.fetches.Load())
	clock.Add(2 * time.Minute)
	require.NoError(t, verify())
	require.Equal(t, int32(2), is.fetches.Load(), "read again after max-age")

	// max-age beyond an hour is held to an hour.
	is.cacheControl = "max-age=86400"
	clock.Add(11 * time.Minute)
	require.NoError(t, verify())
	require.Equal(t, int32(3), is.fetches.Load())
	clock.Add(59 * time.Minute)
	require.NoError(t, verify())
	require.Equal(t, int32(3), is.fetches.Load())
	clock.Add(2 * time.Minute)
	is.down.Store(true)
	require.NoError(t, verify(), "stale keys serve while the provider is down")
	require.Equal(t, int32(4), is.fetches.Load())
	require.NoError(t, verify(), "and the next attempt waits for the cooldown")
	require.Equal(t, int32(4), is.fetches.Load())
}

func TestUnreachableProviderIsNotTheTokensFault(t *testing.T) {
	t.Parallel()
	is := newIssuer(t)
	rs := newSigner(t, "rs", jose.RS256)
	clock := testkit.NewClock(start)
	v := newVerifier(t, clock, []string{"RS256"}, is)
	tok := rs.sign(t, is.claims(start), nil)
	is.srv.Close()
	_, err := v.Verify(context.Background(), tok)
	require.Error(t, err)
	require.False(t, errors.Is(err, oidc.ErrInvalidToken))
}
