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
	if err := s.checkProviderLimit(ctx, s.DB, userID, tier, p); err != nil {
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
	if err := s.seal(k, key, s.sealingRing(ctx).Current()); err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// Before anything is read, so that a rotation's pass (which takes the same table
		// in a mode that excludes this) sees this save whole or not at all.
		if err := lockKeysForSave(ctx, tx); err != nil {
			return err
		}
		// The limit is checked again where it cannot race another save.
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		if err := s.checkProviderLimit(ctx, tx, userID, tier, p); err != nil {
			return err
		}
		// Never seal with a version older than one already stored: a rotation to a
		// newer version has begun, and a value sealed with the old one would be left
		// behind it (an instance still pinned to, or not yet reloaded past, the old
		// version seals with the newer one its ring holds).
		newest, err := newestKeyVersion(ctx, tx)
		if err != nil {
			return err
		}
		if newest > k.KeyVersion {
			if err := s.seal(k, key, newest); err != nil {
				return err
			}
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

// sealingRing is the ring to seal new values with. In embedded mode the ring file is
// read again first (a few hundred bytes, once per key saved), so a running server seals
// with the version `keys rotate` added as soon as it has added it.
func (s *Service) sealingRing(ctx context.Context) *keyring.Ring {
	if s.ReloadRing != nil {
		if _, err := s.reloadRing(); err != nil {
			s.Logger.WarnContext(ctx, "reload the key ring; sealing with the one loaded", "error", err)
		}
	}
	return s.keys()
}

// seal encrypts key into k with version v of the ring (reloaded once if it lacks v).
func (s *Service) seal(k *models.ProviderKey, key string, v int) error {
	ring, err := s.keys().WithCurrent(v)
	if err != nil && s.ReloadRing != nil {
		var fresh *keyring.Ring
		if fresh, err = s.reloadRing(); err == nil {
			ring, err = fresh.WithCurrent(v)
		}
	}
	if err != nil {
		return models.Internal(err, "stored keys are sealed with key version %d, which this server's key ring lacks", v)
	}
	if k.Ciphertext, err = ring.Seal([]byte(key), k.UserID, k.Provider); err != nil {
		return models.Internal(err, "encrypt key")
	}
	k.KeyVersion = v
	return nil
}

// checkProviderLimit refuses a new LLM provider beyond the tier's allowance;
// replacing the key of a provider already configured is always allowed.
func (s *Service) checkProviderLimit(ctx context.Context, db bun.IDB, userID string, tier models.Tier, p models.Provider) error {
	if p.Kind != models.ProviderLLM {
		return nil
	}
	limit := models.FeaturesOf(tier).Providers
	if limit == models.Unlimited {
		return nil
	}
	keys, err := s.stmts.findProviderKeys(ctx, db, userID)
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
	// Passes counts the passes made, the last of which found nothing left to reseal.
	Passes int
	// ByVersion counts stored keys per key version after the rotation.
	ByVersion map[int]int
}

// rotationBatch is how many keys one pass of RotateKeys reseals, in one transaction
// that holds saves back while it runs.
const rotationBatch = 200

// RotateKeys re-encrypts every stored key not sealed with the ring's current version.
// It works in passes of a batch each, in its own transaction, so it can run beside
// serving instances, and it ends only when a pass finds nothing left under an older
// version: each pass excludes saves while it runs (lockKeysForRotation), and a save
// never seals with a version older than one stored, so once it succeeds no value
// under an older version remains, whatever instances do meanwhile. The passes are
// bounded: keys that keep reappearing under an older version make it fail with
// CONFLICT, saying how many remain.
func (s *Service) RotateKeys(ctx context.Context) (*RotationResult, error) {
	ring := s.keys()
	r := &RotationResult{Current: ring.Current()}
	initial, err := countKeysNotSealedWith(ctx, s.DB, r.Current)
	if err != nil {
		return nil, err
	}
	// A sweep takes initial/batch passes; as many again, and a few, for keys changed
	// meanwhile, before giving up.
	maxPasses := 2*(initial/rotationBatch+1) + 8
	failed := map[string]bool{}
	for {
		r.Passes++
		found := 0
		err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
			if err := lockKeysForRotation(ctx, tx); err != nil {
				return err
			}
			keys, err := findKeysNotSealedWith(ctx, tx, r.Current, rotationBatch+len(failed))
			if err != nil {
				return err
			}
			for _, k := range keys {
				if failed[k.ID] {
					continue
				}
				found++
				old := k.Ciphertext
				sealed, err := ring.Reseal(old, k.UserID, k.Provider)
				if err != nil {
					failed[k.ID] = true
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
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if found == 0 {
			break
		}
		if r.Passes == maxPasses {
			left, err := countKeysNotSealedWith(ctx, s.DB, r.Current)
			if err != nil {
				return nil, err
			}
			return nil, models.Errorf(models.CodeConflict,
				"after %d passes %d provider keys are still sealed with a version older than %d: an instance keeps sealing with an older one "+
					"(is INKGRAPH_KEYRING_CURRENT pinned on one?); give every instance the ring with version %d and run keys rotate again",
				r.Passes, left-len(failed), r.Current, r.Current)
		}
	}
	r.Failed = len(failed)
	r.ByVersion, err = countKeysByVersion(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	return r, nil
}
