package oidc

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"

	jose "github.com/go-jose/go-jose/v4"
)

// provider holds one issuer's discovery result and cached keys.
type provider struct {
	cfg Provider
	v   *Verifier

	mu sync.Mutex
	// jwksURI is the discovery document's jwks_uri; "" until discovery succeeded.
	jwksURI string
	keys    []jose.JSONWebKey
	// expires is when the keys are read again; lastFetch is when the last fetch
	// started (the cooldown counts from it).
	expires   time.Time
	lastFetch time.Time
	// fetching, when not nil, is closed when the fetch under way ends; every caller
	// that needs it waits for that one rather than starting another.
	fetching chan struct{}
	fetchErr error
}

// key returns the provider's key for a token with kid and alg, reading the key set
// when it is stale or, once per cooldown, when kid is unknown.
func (p *provider) key(ctx context.Context, kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.v.now()
	if p.fetching != nil || p.jwksURI == "" || !now.Before(p.expires) {
		// Stale, never read, or being read. A failed fetch with keys at hand keeps
		// them: an outage of the provider must not end sign-ins whose keys we know.
		// With none, a failure is answered again until the cooldown has passed, so a
		// provider that is down gets one attempt per cooldown, not one per token.
		if p.fetching == nil && !p.canFetch(now) {
			if p.keys == nil {
				return nil, p.fetchErr
			}
		} else if err := p.refresh(ctx, now); err != nil && p.keys == nil {
			return nil, err
		}
	}
	if k, err := p.find(kid, alg); !errors.Is(err, errNoSuchKey) {
		return k, err
	}
	if p.fetching == nil && !p.canFetch(now) {
		return nil, invalid("its key %q is not among the issuer's keys", truncate(kid, 100))
	}
	// An unknown key ID: the provider may have rotated its keys. One refetch (or the
	// one under way).
	if err := p.refresh(ctx, now); err != nil {
		return nil, err
	}
	if k, err := p.find(kid, alg); !errors.Is(err, errNoSuchKey) {
		return k, err
	}
	return nil, invalid("its key %q is not among the issuer's keys", truncate(kid, 100))
}

// canFetch reports whether the cooldown since the last fetch has passed. p.mu is held.
func (p *provider) canFetch(now time.Time) bool {
	return p.lastFetch.IsZero() || !now.Before(p.lastFetch.Add(p.v.cooldown))
}

// find returns the key for kid that fits alg; a token without a kid may use the one
// key that fits. A known kid whose key does not fit alg is an error, not a reason to
// refetch. Nothing found is errNoSuchKey. p.mu is held.
func (p *provider) find(kid string, alg jose.SignatureAlgorithm) (*jose.JSONWebKey, error) {
	var match *jose.JSONWebKey
	n, known := 0, false
	for i := range p.keys {
		k := &p.keys[i]
		if kid != "" && k.KeyID != kid {
			continue
		}
		known = true
		if fits(k, alg) {
			match = k
			n++
		}
	}
	switch {
	case n == 1:
		return match, nil
	case kid != "" && known && n == 0:
		return nil, invalid("the issuer's key %q is not for %s", truncate(kid, 100), alg)
	case kid == "" && n > 1:
		return nil, invalid("it names no key (kid) and the issuer has several")
	}
	return nil, errNoSuchKey
}

// errNoSuchKey is find's answer when the key set has no key for the kid: a reason to
// refetch, not an answer to give.
var errNoSuchKey = errors.New("no such key")

// refresh reads the key set (after discovery, the first time) once for every
// caller waiting: a caller that finds a fetch under way waits for it. p.mu is held
// on entry and on return.
func (p *provider) refresh(ctx context.Context, now time.Time) error {
	if p.fetching == nil {
		p.lastFetch = now
		done := make(chan struct{})
		p.fetching = done
		jwksURI := p.jwksURI
		go func() {
			// Detached from the caller: others wait for the result too, and a fetch
			// has its own timeout.
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
			defer cancel()
			uri, keys, ttl, err := p.fetch(fctx, jwksURI)
			p.mu.Lock()
			defer p.mu.Unlock()
			p.fetchErr = err
			if err == nil {
				p.jwksURI, p.keys, p.expires = uri, keys, p.v.now().Add(ttl)
			} else {
				// Keep what we had; try again after the cooldown.
				p.expires = p.v.now().Add(p.v.cooldown)
			}
			p.fetching = nil
			close(done)
		}()
	}
	done := p.fetching
	p.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		p.mu.Lock()
		return ctx.Err()
	}
	p.mu.Lock()
	return p.fetchErr
}

// fetch reads the discovery document when jwksURI is "" and then the key set.
func (p *provider) fetch(ctx context.Context, jwksURI string) (string, []jose.JSONWebKey, time.Duration, error) {
	if jwksURI == "" {
		var err error
		if jwksURI, err = p.discover(ctx); err != nil {
			return "", nil, 0, err
		}
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	header, err := p.getJSON(ctx, jwksURI, &set)
	if err != nil {
		return "", nil, 0, err
	}
	var keys []jose.JSONWebKey
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		// A key of a type this server does not know (or a broken one) is skipped,
		// not the whole set.
		if err := k.UnmarshalJSON(raw); err != nil || !k.Valid() {
			continue
		}
		k = k.Public()
		if rk, ok := k.Key.(*rsa.PublicKey); ok && rk.N.BitLen() < minRSABits {
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return "", nil, 0, fmt.Errorf("oidc: %s: the key set at %s has no usable key", p.cfg.Issuer, jwksURI)
	}
	return jwksURI, keys, keysTTL(header), nil
}

// discover reads the provider's discovery document and returns its jwks_uri.
func (p *provider) discover(ctx context.Context) (string, error) {
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	// OpenID Connect Discovery §4: the well-known path follows the issuer without its
	// trailing slash.
	wellKnown := strings.TrimSuffix(p.cfg.Issuer, "/") + "/.well-known/openid-configuration"
	if _, err := p.getJSON(ctx, wellKnown, &doc); err != nil {
		return "", err
	}
	if doc.Issuer != p.cfg.Issuer {
		return "", fmt.Errorf("oidc: the discovery document of %s names the issuer %q (must be identical)", p.cfg.Issuer, doc.Issuer)
	}
	u, err := url.Parse(doc.JWKSURI)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("oidc: the discovery document of %s has no usable jwks_uri (%q)", p.cfg.Issuer, doc.JWKSURI)
	}
	if !SecureURL(doc.JWKSURI) {
		return "", fmt.Errorf("oidc: the discovery document of %s names a jwks_uri that is not https (%q)", p.cfg.Issuer, doc.JWKSURI)
	}
	return doc.JWKSURI, nil
}

// SecureURL says whether raw is an https URL, or an http one on a loopback host
// (localhost, 127.0.0.0/8, ::1), where nothing else is on the path: over plain http
// to anywhere else, whoever is on the path could serve their own keys. Issuers and
// the key sets their discovery names must pass it.
func SecureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "https" || u.Scheme == "http" && clientip.LoopbackHost(u.Host)
}

func (p *provider) getJSON(ctx context.Context, uri string, into any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return nil, fmt.Errorf("oidc: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("oidc: fetch %s: %w", uri, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
		return nil, fmt.Errorf("oidc: fetch %s: %s", uri, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("oidc: read %s: %w", uri, err)
	}
	if len(body) > maxResponseBytes {
		return nil, fmt.Errorf("oidc: %s: the response is larger than %d bytes", uri, maxResponseBytes)
	}
	if err := json.Unmarshal(body, into); err != nil {
		return nil, fmt.Errorf("oidc: %s: %w", uri, err)
	}
	return resp.Header, nil
}

// keysTTL is how long a key set is kept: its Cache-Control max-age within
// [MinKeysTTL, DefaultKeysTTL], DefaultKeysTTL when it gives none.
func keysTTL(h http.Header) time.Duration {
	for _, directive := range strings.Split(h.Get("Cache-Control"), ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(directive), "=")
		if !strings.EqualFold(name, "max-age") {
			continue
		}
		sec, err := strconv.Atoi(strings.Trim(value, `"`))
		if err != nil {
			break
		}
		return min(max(time.Duration(sec)*time.Second, MinKeysTTL), DefaultKeysTTL)
	}
	return DefaultKeysTTL
}
