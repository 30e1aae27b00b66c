// Package oidc verifies ID tokens of external OpenID Connect providers: per configured
// issuer it reads the discovery document once (on first use), keeps the provider's
// signing keys (JWKS) cached and follows their rotation with bounded refetches, and
// checks a token as RFC 8725 and OpenID Connect Core §3.1.3.7 ask (algorithm
// allowlist, per-key algorithm, iss, aud, azp, exp, nbf, iat, typ). It knows nothing of
// accounts: what a verified subject means is the caller's business.
package oidc

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrInvalidToken is wrapped by every refusal of a token itself (unknown issuer, bad
// signature, expired, wrong audience, ...); its message says which, never a key.
// Any other error from Verify means a provider could not be asked.
var ErrInvalidToken = errors.New("invalid ID token")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidToken, fmt.Sprintf(format, args...))
}

// Provider is one configured identity provider.
type Provider struct {
	// Issuer is the provider's issuer URL exactly as its tokens' iss spells it.
	Issuer string
	// Audience is the client ID its tokens must be issued to.
	Audience string
}

// Defaults of Config's zero fields.
const (
	DefaultLeeway          = time.Minute
	DefaultRefetchCooldown = 10 * time.Second
	// DefaultKeysTTL is how long keys are kept when the JWKS response gives no max-age,
	// and the longest any max-age is honoured: keys are read again at least hourly.
	DefaultKeysTTL = time.Hour
	// MinKeysTTL is the shortest max-age honoured (a provider saying no-store would
	// otherwise have its keys fetched for every token).
	MinKeysTTL = 5 * time.Minute

	maxTokenBytes    = 16 << 10
	maxResponseBytes = 1 << 20
	fetchTimeout     = 10 * time.Second
	minRSABits       = 2048
)

// Config configures a Verifier.
type Config struct {
	Providers []Provider
	// Algorithms are the JWS algorithms accepted (asymmetric ones only; "none" and
	// HS* are refused whatever this says).
	Algorithms []string
	// Client fetches discovery documents and key sets; nil means one with a timeout.
	Client *http.Client
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed on exp, nbf and iat (DefaultLeeway when zero).
	Leeway time.Duration
	// RefetchCooldown is the least time between two fetches of one provider's keys
	// for an unknown key ID (DefaultRefetchCooldown when zero): a flood of tokens with
	// made-up key IDs costs the provider one fetch per cooldown.
	RefetchCooldown time.Duration
}

// Verifier checks ID tokens of the configured providers. It is safe for concurrent use.
type Verifier struct {
	providers map[string]*provider
	order     []Provider
	algs      []jose.SignatureAlgorithm
	client    *http.Client
	now       func() time.Time
	leeway    time.Duration
	cooldown  time.Duration
}

// New returns a verifier of cfg's providers; nothing is fetched until a token comes.
func New(cfg Config) (*Verifier, error) {
	v := &Verifier{
		providers: map[string]*provider{}, client: cfg.Client, now: cfg.Now,
		leeway: cfg.Leeway, cooldown: cfg.RefetchCooldown,
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: fetchTimeout}
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.leeway == 0 {
		v.leeway = DefaultLeeway
	}
	if v.cooldown == 0 {
		v.cooldown = DefaultRefetchCooldown
	}
	for _, a := range cfg.Algorithms {
		alg := jose.SignatureAlgorithm(a)
		if !asymmetric(alg) {
			return nil, fmt.Errorf("oidc: algorithm %q is not an asymmetric JWS algorithm", a)
		}
		v.algs = append(v.algs, alg)
	}
	if len(v.algs) == 0 && len(cfg.Providers) > 0 {
		return nil, errors.New("oidc: no algorithm allowed")
	}
	for _, p := range cfg.Providers {
		if p.Issuer == "" || p.Audience == "" {
			return nil, fmt.Errorf("oidc: provider %q needs an issuer and an audience", p.Issuer)
		}
		if !SecureURL(p.Issuer) {
			return nil, fmt.Errorf("oidc: issuer %q must be an https URL (plain http only on a loopback host)", p.Issuer)
		}
		if _, dup := v.providers[p.Issuer]; dup {
			return nil, fmt.Errorf("oidc: issuer %q configured twice", p.Issuer)
		}
		v.providers[p.Issuer] = &provider{cfg: p, v: v}
		v.order = append(v.order, p)
	}
	return v, nil
}

// Providers returns the configured providers, in configuration order.
func (v *Verifier) Providers() []Provider { return slices.Clone(v.order) }

// asymmetric reports whether alg is a JWS algorithm with a public verification key.
func asymmetric(alg jose.SignatureAlgorithm) bool {
	switch alg {
	case jose.RS256, jose.RS384, jose.RS512, jose.PS256, jose.PS384, jose.PS512,
		jose.ES256, jose.ES384, jose.ES512, jose.EdDSA:
		return true
	}
	return false
}

// Claims are what a verified ID token says of its subject.
type Claims struct {
	Issuer  string
	Subject string
	// Email is the token's email claim ("" when it has none); EmailVerified is true
	// only when the provider says so.
	Email         string
	EmailVerified bool
	ExpiresAt     time.Time
}

// rawClaims is an ID token's payload as far as Verify reads it.
type rawClaims struct {
	Issuer        string          `json:"iss"`
	Subject       string          `json:"sub"`
	Audience      audience        `json:"aud"`
	AuthorizedTo  string          `json:"azp"`
	ExpiresAt     *numericDate    `json:"exp"`
	NotBefore     *numericDate    `json:"nbf"`
	IssuedAt      *numericDate    `json:"iat"`
	Email         string          `json:"email"`
	EmailVerified json.RawMessage `json:"email_verified"`
}

// audience is aud: one string or an array of them (RFC 7519 §4.1.3).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = many
	return nil
}

// numericDate is a JWT NumericDate: seconds since the epoch, possibly fractional.
type numericDate float64

func (d numericDate) time() time.Time {
	sec := float64(d)
	return time.Unix(int64(sec), int64((sec-float64(int64(sec)))*1e9)).UTC()
}

// Verify checks raw, an ID token in JWS compact form, and returns its claims. The
// provider is chosen by the token's iss (read before the signature is checked, then
// checked again with it). A refusal wraps ErrInvalidToken; a provider that cannot be
// reached gives another error.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, invalid("the token is empty")
	}
	if len(raw) > maxTokenBytes {
		return nil, invalid("the token is longer than %d bytes", maxTokenBytes)
	}
	// The allowlist is given to the parser, so "none", HS256 and anything not
	// configured are refused before a key is looked for.
	jws, err := jose.ParseSignedCompact(raw, v.algs)
	if err != nil {
		return nil, invalid("not a signed JWT with an allowed algorithm (%s)", v.algList())
	}
	if len(jws.Signatures) != 1 {
		return nil, invalid("the token must have exactly one signature")
	}
	header := jws.Signatures[0].Header
	alg := jose.SignatureAlgorithm(header.Algorithm)
	if typ, ok := header.ExtraHeaders[jose.HeaderType]; ok {
		// RFC 8725 §3.11: an access token (at+jwt) or a logout token is not an ID token.
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") {
			return nil, invalid("its type (typ) is %q, not JWT", truncate(fmt.Sprint(typ), 40))
		}
	}
	var unverified struct {
		Issuer string `json:"iss"`
	}
	if err := json.Unmarshal(jws.UnsafePayloadWithoutVerification(), &unverified); err != nil {
		return nil, invalid("its claims are not a JSON object")
	}
	p, ok := v.providers[unverified.Issuer]
	if !ok {
		return nil, invalid("its issuer %q is not a configured identity provider", truncate(unverified.Issuer, 200))
	}
	key, err := p.key(ctx, header.KeyID, alg)
	if err != nil {
		return nil, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return nil, invalid("its signature does not verify with the issuer's key %q", truncate(header.KeyID, 100))
	}
	var c rawClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalid("its claims cannot be read: %v", err)
	}
	return v.check(p.cfg, &c)
}

// check applies the claim checks of OpenID Connect Core §3.1.3.7 to a token whose
// signature p's key verified.
func (v *Verifier) check(p Provider, c *rawClaims) (*Claims, error) {
	now := v.now()
	switch {
	case c.Issuer != p.Issuer:
		return nil, invalid("its issuer %q is not %q", truncate(c.Issuer, 200), p.Issuer)
	case c.Subject == "":
		return nil, invalid("it has no subject (sub)")
	case len(c.Subject) > 255:
		return nil, invalid("its subject (sub) is longer than 255 bytes")
	case !slices.Contains(c.Audience, p.Audience):
		return nil, invalid("it is not issued to this application (audience %q)", p.Audience)
	case c.AuthorizedTo != "" && c.AuthorizedTo != p.Audience:
		return nil, invalid("it is authorized to another party (azp %q)", truncate(c.AuthorizedTo, 200))
	case len(c.Audience) > 1 && c.AuthorizedTo == "":
		return nil, invalid("it names several audiences and no authorized party (azp)")
	case c.ExpiresAt == nil:
		return nil, invalid("it has no expiry (exp)")
	case now.After(c.ExpiresAt.time().Add(v.leeway)):
		return nil, invalid("it expired at %s", c.ExpiresAt.time().Format(time.RFC3339))
	case c.NotBefore != nil && now.Add(v.leeway).Before(c.NotBefore.time()):
		return nil, invalid("it is not valid before %s", c.NotBefore.time().Format(time.RFC3339))
	case c.IssuedAt == nil:
		return nil, invalid("it has no issue time (iat)")
	case now.Add(v.leeway).Before(c.IssuedAt.time()):
		return nil, invalid("it is issued in the future (%s)", c.IssuedAt.time().Format(time.RFC3339))
	}
	return &Claims{
		Issuer: c.Issuer, Subject: c.Subject, Email: c.Email,
		EmailVerified: verified(c.EmailVerified), ExpiresAt: c.ExpiresAt.time(),
	}, nil
}

// verified reads email_verified: a boolean, or the string "true" some providers
// (Amazon Cognito) send; anything else is false.
func verified(raw json.RawMessage) bool {
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return b
	}
	var s string
	return json.Unmarshal(raw, &s) == nil && s == "true"
}

// fits reports whether k may verify a token signed with alg (RFC 8725 §3.1: the
// key's own alg, when it names one, and its type must both match).
func fits(k *jose.JSONWebKey, alg jose.SignatureAlgorithm) bool {
	if k.Algorithm != "" && k.Algorithm != string(alg) {
		return false
	}
	if k.Use != "" && k.Use != "sig" {
		return false
	}
	switch key := k.Key.(type) {
	case *rsa.PublicKey:
		return strings.HasPrefix(string(alg), "RS") || strings.HasPrefix(string(alg), "PS")
	case *ecdsa.PublicKey:
		curves := map[jose.SignatureAlgorithm]elliptic.Curve{jose.ES256: elliptic.P256(), jose.ES384: elliptic.P384(), jose.ES512: elliptic.P521()}
		return curves[alg] != nil && key.Curve == curves[alg]
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

func (v *Verifier) algList() string {
	names := make([]string, len(v.algs))
	for i, a := range v.algs {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
