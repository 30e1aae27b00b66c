package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// API keys are for scripts: `ink_` and 43 characters of base64url (256 random bits),
// sent as `Authorization: Bearer ink_…`. The database holds the key's SHA-256 (enough
// for a key of that entropy: a leaked table yields no usable key) and its first
// characters, which tell a user's keys apart in a listing.
const (
	apiKeyPrefix = "ink_"
	// apiKeyLen is a key's length: the prefix and 32 bytes in unpadded base64url.
	apiKeyLen = len(apiKeyPrefix) + 43
	// apiKeyShownPrefix is how much of a key its listing shows.
	apiKeyShownPrefix = len(apiKeyPrefix) + 8
	// maxAPIKeys bounds a user's live (unrevoked, unexpired) keys.
	maxAPIKeys = 50
	// maxAPIKeyName bounds a key's name, in characters.
	maxAPIKeyName = 100
	// apiKeyTouchEvery is how stale a key's last use may get before a use records it:
	// a script calling in a loop writes once a minute, not once a request.
	apiKeyTouchEvery = time.Minute
)

// IsAPIKey reports whether a bearer credential is an API key rather than an access
// token (a JWT never starts with `ink_`).
func IsAPIKey(credential string) bool { return strings.HasPrefix(credential, apiKeyPrefix) }

// APIKeyInput is what creating an API key takes.
type APIKeyInput struct {
	Name   string
	Scopes []models.Scope
	// ExpiresAt is when the key stops working; nil for never.
	ExpiresAt *time.Time
}

// NewAPIKey is a created key: the key itself, shown only this once, and its record.
type NewAPIKey struct {
	Key    string
	APIKey *models.APIKey
}

// CreateAPIKey makes a key for the signed-in user (a session: a key cannot make keys).
func (s *Service) CreateAPIKey(ctx context.Context, caller models.Caller, in APIKeyInput) (*NewAPIKey, error) {
	if err := caller.RequireSession(); err != nil {
		return nil, err
	}
	now := s.now()
	name := strings.TrimSpace(in.Name)
	switch {
	case name == "":
		return nil, models.InvalidInput("input.name", "name the key (what uses it), e.g. \"nightly export\"")
	case utf8.RuneCountInString(name) > maxAPIKeyName:
		return nil, models.InvalidInput("input.name", "a key's name is at most %d characters", maxAPIKeyName)
	}
	if len(in.Scopes) == 0 {
		return nil, models.InvalidInput("input.scopes", "give the key at least one scope: READ, CHAT, PLAYBOOKS or BACKUPS")
	}
	for _, scope := range in.Scopes {
		if !scope.Valid() {
			return nil, models.InvalidInput("input.scopes", "unknown scope %q: want READ, CHAT, PLAYBOOKS or BACKUPS", string(scope))
		}
	}
	scopes := models.NewScopeSet(in.Scopes)
	var expires *time.Time
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(now) {
			return nil, models.InvalidInput("input.expiresAt", "the expiry must be in the future")
		}
		t := in.ExpiresAt.UTC()
		expires = &t
	}
	key, hash, err := newAPIKey()
	if err != nil {
		return nil, models.Internal(err, "create API key")
	}
	id, err := newID()
	if err != nil {
		return nil, models.Internal(err, "create API key")
	}
	record := &models.APIKey{
		ID: id, UserID: caller.UserID, Name: name, Prefix: key[:apiKeyShownPrefix], KeyHash: hash,
		Scopes: scopes, CreatedAt: now, ExpiresAt: expires,
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Concurrent creations count one after another, so the limit holds.
		if err := database.LockUser(ctx, tx, caller.UserID); err != nil {
			return err
		}
		live, err := countLiveAPIKeys(ctx, tx, caller.UserID, now)
		if err != nil {
			return err
		}
		if live >= maxAPIKeys {
			return models.InvalidInput("input", "at most %d API keys may be live at once: revoke one first", maxAPIKeys)
		}
		return insertAPIKey(ctx, tx, record)
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, caller.UserID, models.AuditAPIKeyCreated, models.AuditDetail{
		"keyId": record.ID, "prefix": record.Prefix, "scopes": scopesText(scopes),
	})
	return &NewAPIKey{Key: key, APIKey: record}, nil
}

// APIKeys lists the signed-in user's keys that have not been revoked, newest first.
func (s *Service) APIKeys(ctx context.Context, caller models.Caller) ([]*models.APIKey, error) {
	if err := caller.RequireSession(); err != nil {
		return nil, err
	}
	keys, err := findAPIKeys(ctx, s.db, caller.UserID)
	return keys, err
}

// RevokeAPIKey ends one of the signed-in user's keys at once: its next use is refused.
// Revoking a key already revoked returns it unchanged; another user's key is NOT_FOUND.
func (s *Service) RevokeAPIKey(ctx context.Context, caller models.Caller, id string) (*models.APIKey, error) {
	if err := caller.RequireSession(); err != nil {
		return nil, err
	}
	now := s.now()
	revoked, err := revokeAPIKey(ctx, s.db, caller.UserID, id, now)
	if err != nil {
		return nil, err
	}
	key, err := findAPIKey(ctx, s.db, caller.UserID, id)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, &models.Error{Code: models.CodeNotFound, Field: "id", Message: "no such API key"}
		}
		return nil, err
	}
	if revoked {
		s.audit(ctx, caller.UserID, models.AuditAPIKeyRevoked, models.AuditDetail{"keyId": key.ID, "prefix": key.Prefix})
		s.propagateRevocation(ctx, caller.UserID, apiKeyRevocationID(key.ID), now)
	}
	return key, nil
}

// AuthenticateAPIKey returns the caller a key stands for, or UNAUTHENTICATED saying
// why it does not (malformed, unknown, revoked, expired) without telling whose it is.
func (s *Service) AuthenticateAPIKey(ctx context.Context, key string) (models.Caller, error) {
	if len(key) != apiKeyLen || !IsAPIKey(key) {
		return models.Caller{}, models.Errorf(models.CodeUnauthenticated, "malformed API key: want ink_ and 43 characters")
	}
	record, err := findAPIKeyByHash(ctx, s.db, hashAPIKey(key))
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return models.Caller{}, models.Errorf(models.CodeUnauthenticated, "unknown API key")
		}
		return models.Caller{}, err
	}
	now := s.now()
	switch {
	case record.RevokedAt != nil:
		return models.Caller{}, models.Errorf(models.CodeUnauthenticated, "this API key was revoked")
	case record.ExpiresAt != nil && !record.ExpiresAt.After(now):
		return models.Caller{}, models.Errorf(models.CodeUnauthenticated, "this API key expired at %s", record.ExpiresAt.Format(time.RFC3339))
	}
	if record.LastUsedAt == nil || now.Sub(*record.LastUsedAt) >= apiKeyTouchEvery {
		if err := touchAPIKey(ctx, s.db, record.ID, now, now.Add(-apiKeyTouchEvery)); err != nil {
			// The use is allowed either way: its record is a convenience.
			s.logger.WarnContext(ctx, "record API key use", "error", err, "key_id", record.ID)
		}
	}
	caller := models.Caller{UserID: record.UserID, APIKeyID: record.ID, Scopes: record.Scopes}
	if record.ExpiresAt != nil {
		caller.ExpiresAt = *record.ExpiresAt
	}
	return caller, nil
}

// AuditKeyUse records that an API key used a sensitive scope.
func (s *Service) AuditKeyUse(ctx context.Context, caller models.Caller, scope models.Scope, operation string) {
	if caller.APIKeyID == "" {
		return
	}
	s.audit(ctx, caller.UserID, models.AuditAPIKeyUsed, models.AuditDetail{
		"keyId": caller.APIKeyID, "scope": string(scope), "operation": operation,
	})
}

// apiKeyRevocationID is a key's entry in the revocation set, apart from session IDs.
func apiKeyRevocationID(keyID string) string { return "apikey:" + keyID }

func newAPIKey() (key, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	key = apiKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
	return key, hashAPIKey(key), nil
}

func hashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

func scopesText(ss models.ScopeSet) string {
	v, _ := ss.Value()
	return fmt.Sprint(v)
}

func insertAPIKey(ctx context.Context, db bun.IDB, k *models.APIKey) error {
	if _, err := db.NewInsert().Model(k).Exec(ctx); err != nil {
		return fmt.Errorf("insert API key: %w", err)
	}
	return nil
}

func countLiveAPIKeys(ctx context.Context, db bun.IDB, userID string, now time.Time) (int, error) {
	n, err := db.NewSelect().Model((*models.APIKey)(nil)).
		Where("user_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", userID, now).
		Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count API keys: %w", err)
	}
	return int(n), nil
}

func findAPIKeys(ctx context.Context, db bun.IDB, userID string) ([]*models.APIKey, error) {
	var keys []*models.APIKey
	err := db.NewSelect().Model(&keys).
		Where("user_id = ? AND revoked_at IS NULL", userID).
		Order("created_at DESC", "id DESC").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find API keys: %w", err)
	}
	return keys, nil
}

func findAPIKey(ctx context.Context, db bun.IDB, userID, id string) (*models.APIKey, error) {
	k := new(models.APIKey)
	err := db.NewSelect().Model(k).Where("id = ? AND user_id = ?", id, userID).Scan(ctx)
	return k, database.NotFound(err, "API key")
}

// findAPIKeyByHash looks a presented key up by its hash: the key is what identifies
// the caller.
func findAPIKeyByHash(ctx context.Context, db bun.IDB, hash string) (*models.APIKey, error) {
	k := new(models.APIKey)
	err := db.NewSelect().Model(k).Where("key_hash = ?", hash).Scan(ctx)
	return k, database.NotFound(err, "API key")
}

// touchAPIKey records a use unless one since staleBefore was recorded already (by
// this instance or another).
func touchAPIKey(ctx context.Context, db bun.IDB, id string, at, staleBefore time.Time) error {
	_, err := db.NewUpdate().Model((*models.APIKey)(nil)).
		Set("last_used_at = ?", at).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, staleBefore).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("touch API key: %w", err)
	}
	return nil
}

func revokeAPIKey(ctx context.Context, db bun.IDB, userID, id string, at time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*models.APIKey)(nil)).
		Set("revoked_at = ?", at).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke API key: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// findAPIKeysRevokedSince returns the keys revoked at or after since, for the
// revocation set (whose sockets of a revoked key close even when its event was lost).
func findAPIKeysRevokedSince(ctx context.Context, db bun.IDB, since time.Time) ([]models.APIKey, error) {
	var keys []models.APIKey
	if err := db.NewSelect().Model(&keys).Column("id", "revoked_at").
		Where("revoked_at >= ?", since).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find revoked API keys: %w", err)
	}
	return keys, nil
}
