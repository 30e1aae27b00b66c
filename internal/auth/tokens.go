package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/inkgraph/inkgraph/models"
)

// accessTokenType is the JWT header typ of access tokens (RFC 9068), checked on
// verification so no other token signed with the same key passes as one.
const accessTokenType = "at+jwt"

// refreshTokenPrefix marks refresh tokens so secret scanners and people recognise them.
const refreshTokenPrefix = "igr_"

// TokenConfig configures access tokens.
type TokenConfig struct {
	Secret   []byte
	Issuer   string
	Audience string
	TTL      time.Duration
}

// Tokens issues and verifies HS256 access tokens.
type Tokens struct {
	cfg    TokenConfig
	now    func() time.Time
	parser *jwt.Parser
	// verified are the tokens Verify accepted: a client sends the same token with each
	// request until it expires, and its next requests skip the signature and the JSON.
	verified verifiedTokens
}

type accessClaims struct {
	jwt.RegisteredClaims
	SessionID string `json:"sid"`
}

// NewTokens returns an issuer and verifier of access tokens; now is the clock.
func NewTokens(cfg TokenConfig, now func() time.Time) *Tokens {
	return &Tokens{
		cfg: cfg,
		now: now,
		// The algorithm is pinned: a token saying alg "none" or RS256 is refused
		// before its signature is looked at.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(now),
		),
	}
}

// Issue returns a signed access token for a user's session and when it expires.
func (t *Tokens) Issue(userID, sessionID string) (string, time.Time, error) {
	now := t.now().Truncate(time.Second)
	exp := now.Add(t.cfg.TTL)
	jti, err := uuid.NewV7()
	if err != nil {
		return "", time.Time{}, err
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			Subject:   userID,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(exp),
			ID:        jti.String(),
		},
		SessionID: sessionID,
	})
	tok.Header["typ"] = accessTokenType
	signed, err := tok.SignedString(t.cfg.Secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign access token: %w", err)
	}
	return signed, exp, nil
}

// Verify checks an access token and returns its caller, or UNAUTHENTICATED. A token
// it accepted before is accepted again, without parsing it, while the clock is within
// the times it was valid for (a clock outside them has the token checked again, which
// gives the reason).
func (t *Tokens) Verify(raw string) (models.Caller, error) {
	key := sha256.Sum256([]byte(raw))
	if v, ok := t.verified.get(key); ok {
		if now := t.now(); !now.Before(v.from) && now.Before(v.caller.ExpiresAt) {
			return v.caller, nil
		}
	}
	caller, from, err := t.verify(raw)
	if err == nil {
		t.verified.put(key, verifiedToken{caller: caller, from: from})
	}
	return caller, err
}

// verify parses and checks raw: its caller, and from when it is valid (its iat, or
// its nbf if later).
func (t *Tokens) verify(raw string) (models.Caller, time.Time, error) {
	var claims accessClaims
	tok, err := t.parser.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		if typ, _ := tok.Header["typ"].(string); !strings.EqualFold(typ, accessTokenType) {
			return nil, fmt.Errorf("token type %q is not an access token", typ)
		}
		return t.cfg.Secret, nil
	})
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return models.Caller{}, time.Time{}, &models.Error{Code: models.CodeUnauthenticated, Message: "access token expired: refresh it", Err: err}
	case err != nil || !tok.Valid:
		return models.Caller{}, time.Time{}, &models.Error{Code: models.CodeUnauthenticated, Message: "invalid access token", Err: err}
	case claims.Subject == "" || claims.SessionID == "" || claims.ID == "":
		return models.Caller{}, time.Time{}, models.Errorf(models.CodeUnauthenticated, "invalid access token: missing claims")
	}
	// The parser required exp, and checked iat and nbf when present: from is the
	// later of them (none: any time).
	var from time.Time
	if claims.IssuedAt != nil {
		from = claims.IssuedAt.Time
	}
	if claims.NotBefore != nil && claims.NotBefore.After(from) {
		from = claims.NotBefore.Time
	}
	return models.Caller{UserID: claims.Subject, SessionID: claims.SessionID, ExpiresAt: claims.ExpiresAt.UTC()}, from, nil
}

// verifiedTokenCap is how many verified tokens each of verifiedTokens' two maps holds.
const verifiedTokenCap = 4096

// verifiedToken is what Verify found in a token it accepted: its caller, valid from
// from until the caller's ExpiresAt.
type verifiedToken struct {
	caller models.Caller
	from   time.Time
}

// verifiedTokens remembers the tokens Verify accepted, by their SHA-256 (the process
// keeps no bearer token), at most 2 × verifiedTokenCap of them: when the current map
// is full it becomes the previous one, dropping the one before; a token found there
// is moved back. Session revocations are checked apart, at every request, whatever
// this holds.
type verifiedTokens struct {
	mu        sync.RWMutex
	cur, prev map[[sha256.Size]byte]verifiedToken
}

func (v *verifiedTokens) get(key [sha256.Size]byte) (verifiedToken, bool) {
	v.mu.RLock()
	t, ok := v.cur[key]
	if ok {
		v.mu.RUnlock()
		return t, true
	}
	t, ok = v.prev[key]
	v.mu.RUnlock()
	if ok {
		v.put(key, t)
	}
	return t, ok
}

func (v *verifiedTokens) put(key [sha256.Size]byte, t verifiedToken) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.cur) >= verifiedTokenCap {
		v.prev, v.cur = v.cur, nil
	}
	if v.cur == nil {
		v.cur = map[[sha256.Size]byte]verifiedToken{}
	}
	v.cur[key] = t
}

// newRefreshToken returns a random 256-bit refresh token and the hash that is stored.
func newRefreshToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = refreshTokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashRefreshToken(token), nil
}

// hashRefreshToken is what the database holds: a leaked table yields no usable token.
// A plain SHA-256 suffices because the token has 256 bits of entropy.
func hashRefreshToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func newID() (string, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return "", err
	}
	return id.String(), nil
}
