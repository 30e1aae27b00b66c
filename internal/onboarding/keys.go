package onboarding

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/models"
)

// ProviderKeys returns the user's keys (masked; ciphertext stays inside the service).
func (s *Service) ProviderKeys(ctx context.Context, userID string) ([]*models.ProviderKey, error) {
	return s.Summary(userID).ProviderKeys(ctx)
}

// SaveProviderKey checks a key's format (and, when configured, asks the provider),
// then stores it encrypted, replacing the user's previous key for that provider. A
// key the provider refuses is not stored; one that could not be checked because the
// provider was unreachable is stored as UNVERIFIED, to be checked again later.
func (s *Service) SaveProviderKey(ctx context.Context, userID, provider, key string) (*models.ProviderKey, error) {
	p, err := providers.Lookup(provider)
	if err != nil {
		return nil, err
	}
	if err := providers.CheckFormat(p.ID, key); err != nil {
		return nil, err
	}
	// The tier is read before any transaction: on SQLite's single connection a read
	// through another service inside the transaction would wait for itself.
	tier, err := s.Tiers.TierOf(ctx, userID)
	if err != nil {
		return nil, err
	}
	if err := checkProviderLimit(ctx, s.DB, userID, tier, p); err != nil {
		return nil, err
	}
	now := s.Now()
	k := &models.ProviderKey{
		UserID: userID, Provider: p.ID, Masked: providers.Mask(key), FormatValid: true,
		Status: models.KeyFormatOK, CreatedAt: now, UpdatedAt: now,
	}
	if s.LiveKeyCheck {
		switch err := s.Verifier.Verify(ctx, p.ID, key); models.ErrorCode(err) {
		case "":
			k.Status, k.LastVerifiedAt = models.KeyVerified, &now
		case models.CodeUpstreamUnavailable:
			k.Status, k.LastError = models.KeyUnverified, models.ErrorMessage(err)
		default:
			return nil, err
		}
	}
	if k.ID, err = newID(); err != nil {
		return nil, err
	}
	ring := s.keys()
	k.Ciphertext, err = ring.Seal([]byte(key), userID, p.ID)
	if err != nil {
		return nil, models.Internal(err, "encrypt key")
	}
	k.KeyVersion = ring.Current()
	err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// The limit is checked again where it cannot race another save.
		if err := lockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := checkProviderLimit(ctx, tx, userID, tier, p); err != nil {
			return err
		}
		return upsertProviderKey(ctx, tx, k)
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	s.audit(ctx, userID, models.AuditProviderKeySaved, models.AuditDetail{"provider": k.Provider, "masked": k.Masked, "status": string(k.Status)})
	return k, nil
}

// checkProviderLimit refuses a new LLM provider beyond the tier's allowance;
// replacing the key of a provider already configured is always allowed.
func checkProviderLimit(ctx context.Context, db bun.IDB, userID string, tier models.Tier, p models.Provider) error {
	if p.Kind != models.ProviderLLM {
		return nil
	}
	limit := models.FeaturesOf(tier).Providers
	if limit == models.Unlimited {
		return nil
	}
	keys, err := findProviderKeys(ctx, db, userID)
	if err != nil {
		return err
	}
	var llm []string
	for _, k := range keys {
		if kp, err := providers.Lookup(k.Provider); err == nil && kp.Kind == models.ProviderLLM {
			llm = append(llm, k.Provider)
		}
	}
	if slices.Contains(llm, p.ID) || len(llm) < limit {
		return nil
	}
	return &models.Error{
		Code: models.CodePaymentRequired, Field: "provider",
		Message: fmt.Sprintf("the %s plan allows %d LLM provider(s) and %v are configured: remove one or upgrade", tier, limit, llm),
	}
}

// DeleteProviderKey removes the user's key for provider; true when there was one.
func (s *Service) DeleteProviderKey(ctx context.Context, userID, provider string) (bool, error) {
	p, err := providers.Lookup(provider)
	if err != nil {
		return false, err
	}
	ok, err := deleteProviderKey(ctx, s.DB, userID, p.ID)
	if err != nil {
		return false, err
	}
	if ok {
		s.notify(ctx, userID)
		s.audit(ctx, userID, models.AuditProviderKeyDeleted, models.AuditDetail{"provider": p.ID})
	}
	return ok, nil
}

// VerifyProviderKey asks the provider about the stored key again and records the answer.
func (s *Service) VerifyProviderKey(ctx context.Context, userID, provider string) (*models.ProviderKey, error) {
	p, err := providers.Lookup(provider)
	if err != nil {
		return nil, err
	}
	if s.Verifier == nil {
		return nil, models.Errorf(models.CodeForbidden, "live key checks are not configured on this server")
	}
	k, err := findProviderKey(ctx, s.DB, userID, p.ID)
	if err != nil {
		return nil, err
	}
	plain, err := s.openStoredKey(ctx, k)
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	now, seen := s.Now(), k.UpdatedAt
	switch err := s.Verifier.Verify(ctx, p.ID, string(plain)); models.ErrorCode(err) {
	case "":
		k.Status, k.LastVerifiedAt, k.LastError = models.KeyVerified, &now, ""
	case models.CodeUpstreamUnavailable:
		k.Status, k.LastError = models.KeyUnverified, models.ErrorMessage(err)
	case models.CodeBadUserInput:
		k.Status, k.LastVerifiedAt, k.LastError = models.KeyInvalid, nil, models.ErrorMessage(err)
	default:
		return nil, err
	}
	k.UpdatedAt = now
	ok, err := updateKeyVerification(ctx, s.DB, k, seen)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, models.Errorf(models.CodeConflict, "the %s key changed while it was being checked: check it again", p.ID)
	}
	s.notify(ctx, userID)
	return k, nil
}

// RevealProviderKey decrypts the user's key for provider, for the server's own calls
// to that provider (chat with the user's own key). It never goes to a client.
func (s *Service) RevealProviderKey(ctx context.Context, userID, provider string) (string, *models.ProviderKey, error) {
	k, err := findProviderKey(ctx, s.DB, userID, provider)
	if err != nil {
		return "", nil, err
	}
	plain, err := s.openStoredKey(ctx, k)
	if err != nil {
		return "", nil, err
	}
	defer clear(plain)
	return string(plain), k, nil
}

// openStoredKey opens a stored key. One that cannot be opened — damaged, moved from
// another row (the user and provider are sealed with it), or sealed with a version
// the ring lacks — is KEY_UNREADABLE on field provider: only entering the key again
// mends it, and the client is told so instead of INTERNAL.
func (s *Service) openStoredKey(ctx context.Context, k *models.ProviderKey) ([]byte, error) {
	plain, err := s.openKey(k.Ciphertext, k.UserID, k.Provider)
	if errors.Is(err, keyring.ErrDecrypt) || errors.Is(err, keyring.ErrUnknownVersion) {
		s.Logger.WarnContext(ctx, "provider key cannot be opened", "key_id", k.ID, "user_id", k.UserID,
			"provider", k.Provider, "key_version", k.KeyVersion, "error", err)
		return nil, &models.Error{
			Code: models.CodeKeyUnreadable, Field: "provider", Err: err,
			Message: fmt.Sprintf("the stored %s key cannot be read: enter it again", k.Provider),
		}
	}
	if err != nil {
		return nil, models.Internal(err, "decrypt key")
	}
	return plain, nil
}

// markUnreadable shows each key that cannot be opened as UNREADABLE (never stored: it
// describes the value, not a check), so a listing tells the user which to enter again.
// It opens every key listed: one AES-GCM open of a few dozen bytes each, for the
// handful of keys a user has, and it finds a damaged value before anything uses it,
// which marking a row when a use fails would not.
func (s *Service) markUnreadable(ctx context.Context, keys []*models.ProviderKey) error {
	for _, k := range keys {
		plain, err := s.openStoredKey(ctx, k)
		clear(plain)
		if models.ErrorCode(err) == models.CodeKeyUnreadable {
			k.Status, k.LastError = models.KeyUnreadable, models.ErrorMessage(err)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// RotationResult reports what RotateKeys did.
type RotationResult struct {
	Current  int
	Resealed int
	// Failed counts keys that could not be opened (their version is not in the
	// ring, or the value is damaged); they are left as they are.
	Failed int
	// ByVersion counts stored keys per key version after the rotation.
	ByVersion map[int]int
}

// RotateKeys re-encrypts every stored key not sealed with the ring's current version.
// It works in batches, each in its own transaction, so it can run beside a serving
// instance; a key changed meanwhile is left to the next run.
func (s *Service) RotateKeys(ctx context.Context) (*RotationResult, error) {
	ring := s.keys()
	r := &RotationResult{Current: ring.Current()}
	const batch = 200
	seen := map[string]bool{}
	for {
		keys, err := findKeysNotSealedWith(ctx, s.DB, r.Current, batch+len(seen))
		if err != nil {
			return nil, err
		}
		progress := false
		err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
			for _, k := range keys {
				if seen[k.ID] {
					continue
				}
				seen[k.ID] = true
				progress = true
				old := k.Ciphertext
				sealed, err := ring.Reseal(old, k.UserID, k.Provider)
				if err != nil {
					r.Failed++
					s.Logger.WarnContext(ctx, "cannot reseal provider key", "key_id", k.ID, "error", err)
					continue
				}
				k.Ciphertext, k.KeyVersion = sealed, r.Current
				ok, err := updateKeyCiphertext(ctx, tx, k, old)
				if err != nil {
					return err
				}
				if ok {
					r.Resealed++
					delete(seen, k.ID) // done: no longer returned by the query
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !progress {
			break
		}
	}
	var err error
	r.ByVersion, err = countKeysByVersion(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	return r, nil
}
