package onboarding_test

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

func TestProviderKeys(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("unknown providers and malformed keys are refused and nothing is stored", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierPro)
			for _, tc := range []struct {
				name, provider, key, field string
			}{
				{"unknown provider", "cohere", openaiKey, "provider"},
				{"empty provider", "", openaiKey, "provider"},
				{"empty key", "openai", "", "key"},
				{"wrong prefix", "openai", tavilyKey, "key"},
				{"too short", "openai", "sk-short", "key"},
				{"trailing newline", "openai", openaiKey + "\n", "key"},
				{"inner space", "anthropic", "sk-ant-inkgraph TestKeyClaude01", "key"},
				{"mistral not 32 characters", "mistral", mistralKey + "x", "key"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := f.svc.SaveProviderKey(ctx, u, tc.provider, tc.key)
					e := testkit.RequireCode(t, err, models.CodeBadUserInput, tc.field)
					if tc.key != "" {
						require.NotContains(t, e.Message, tc.key, "an error never repeats the key")
					}
					require.Zero(t, f.count(t, "provider_keys", u))
				})
			}
		})

		t.Run("a saved key is encrypted, masked and can be revealed", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			now := f.clock.Now()
			k := f.saveKey(t, u, "OpenAI", openaiKey)
			require.NotEmpty(t, k.ID)
			require.Equal(t, u, k.UserID)
			require.Equal(t, "openai", k.Provider)
			require.Equal(t, "sk-…0001", k.Masked)
			require.Equal(t, providers.Mask(openaiKey), k.Masked)
			require.Equal(t, 1, k.KeyVersion)
			require.Equal(t, models.KeyFormatOK, k.Status)
			require.True(t, k.FormatValid)
			require.Nil(t, k.LastVerifiedAt)
			require.Empty(t, k.LastError)
			require.True(t, k.Validated(false))
			require.False(t, k.Validated(true))
			require.True(t, now.Equal(k.CreatedAt))

			stored := f.storedKey(t, u, "openai")
			require.Equal(t, k.ID, stored.ID)
			require.NotEmpty(t, stored.Ciphertext)
			require.False(t, bytes.Contains(stored.Ciphertext, []byte(openaiKey)), "the ciphertext holds the plaintext")
			require.False(t, bytes.Contains(stored.Ciphertext, []byte("inkgraphTestKey")), "the ciphertext holds part of the plaintext")
			v, err := keyring.Version(stored.Ciphertext)
			require.NoError(t, err)
			require.Equal(t, 1, v)
			require.Equal(t, 1, stored.KeyVersion)
			require.Equal(t, models.KeyFormatOK, stored.Status)
			require.Equal(t, "sk-…0001", stored.Masked)

			listed, err := f.svc.ProviderKeys(ctx, u)
			require.NoError(t, err)
			require.Len(t, listed, 1)
			require.Equal(t, k.ID, listed[0].ID)

			plain, rk, err := f.svc.RevealProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, openaiKey, plain)
			require.Equal(t, k.ID, rk.ID)

			_, _, err = f.svc.RevealProviderKey(ctx, u, "anthropic")
			testkit.RequireCode(t, err, models.CodeNotFound, "")
		})

		t.Run("a ciphertext moved to another user or provider does not open", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			a, b := f.user(t, models.TierPro), f.user(t, models.TierFree)
			f.saveKey(t, a, "openai", openaiKey)
			f.saveKey(t, a, "anthropic", anthropicKey)
			f.saveKey(t, b, "openai", openaiKey2)
			stolen := f.storedKey(t, a, "openai").Ciphertext

			move := func(userID, provider string) {
				res, err := db.NewUpdate().Table("provider_keys").Set("ciphertext = ?", stolen).
					Where("user_id = ? AND provider = ?", userID, provider).Exec(ctx)
				require.NoError(t, err)
				n, err := res.RowsAffected()
				require.NoError(t, err)
				require.EqualValues(t, 1, n)
			}
			move(b, "openai")
			_, _, err := f.svc.RevealProviderKey(ctx, b, "openai")
			testkit.RequireCode(t, err, models.CodeKeyUnreadable, "provider")
			require.NotContains(t, err.Error(), openaiKey)

			move(a, "anthropic")
			_, _, err = f.svc.RevealProviderKey(ctx, a, "anthropic")
			testkit.RequireCode(t, err, models.CodeKeyUnreadable, "provider")

			plain, _, err := f.svc.RevealProviderKey(ctx, a, "openai")
			require.NoError(t, err)
			require.Equal(t, openaiKey, plain)
		})

		t.Run("saving a key for the same provider replaces it", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			created := f.clock.Now()
			first := f.saveKey(t, u, "openai", openaiKey)
			oldCiphertext := f.storedKey(t, u, "openai").Ciphertext

			updated := f.clock.Add(time.Hour)
			second := f.saveKey(t, u, "openai", openaiKey2)
			require.Equal(t, 1, f.count(t, "provider_keys", u))
			stored := f.storedKey(t, u, "openai")
			require.Equal(t, first.ID, stored.ID, "the row is updated in place")
			require.Equal(t, stored.ID, second.ID, "the returned key is the stored row")
			require.Equal(t, "sk-…0002", stored.Masked)
			require.NotEqual(t, oldCiphertext, stored.Ciphertext)
			require.True(t, created.Equal(stored.CreatedAt))
			require.True(t, updated.Equal(stored.UpdatedAt))
			plain, _, err := f.svc.RevealProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, openaiKey2, plain)
		})

		t.Run("deleting a key", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.saveKey(t, u, "openai", openaiKey)
			_, err := f.svc.DeleteProviderKey(ctx, u, "cohere")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "provider")

			ok, err := f.svc.DeleteProviderKey(ctx, u, "anthropic")
			require.NoError(t, err)
			require.False(t, ok)
			ok, err = f.svc.DeleteProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.True(t, ok)
			ok, err = f.svc.DeleteProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.False(t, ok)
			require.Zero(t, f.count(t, "provider_keys", u))
			_, _, err = f.svc.RevealProviderKey(ctx, u, "openai")
			testkit.RequireCode(t, err, models.CodeNotFound, "")
		})

		t.Run("the free tier allows one LLM provider", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierFree)
			f.saveKey(t, u, "openai", openaiKey)

			for _, tc := range []struct{ provider, key string }{
				{"anthropic", anthropicKey}, {"gemini", geminiKey}, {"mistral", mistralKey},
			} {
				_, err := f.svc.SaveProviderKey(ctx, u, tc.provider, tc.key)
				testkit.RequireCode(t, err, models.CodePaymentRequired, "provider")
				require.Equal(t, 1, f.count(t, "provider_keys", u), tc.provider)
			}

			f.saveKey(t, u, "tavily", tavilyKey) // research providers do not count
			f.saveKey(t, u, "openai", openaiKey2)
			keys, err := f.svc.ProviderKeys(ctx, u)
			require.NoError(t, err)
			require.Len(t, keys, 2)
			plain, _, err := f.svc.RevealProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, openaiKey2, plain)

			// Removing the LLM key frees the allowance.
			_, err = f.svc.DeleteProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			f.saveKey(t, u, "anthropic", anthropicKey)
		})

		t.Run("the pro tier has no provider limit", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			u := f.user(t, models.TierPro)
			for _, tc := range []struct{ provider, key string }{
				{"openai", openaiKey}, {"anthropic", anthropicKey}, {"gemini", geminiKey}, {"mistral", mistralKey}, {"tavily", tavilyKey},
			} {
				f.saveKey(t, u, tc.provider, tc.key)
			}
			require.Equal(t, 5, f.count(t, "provider_keys", u))
		})

		t.Run("concurrent saves never give a free user two LLM providers", func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, db)
			const rounds, workers = 5, 10
			for round := range rounds {
				u := f.user(t, models.TierFree)
				start := make(chan struct{})
				errs := make([]error, workers)
				var wg sync.WaitGroup
				for i := range workers {
					wg.Go(func() {
						<-start
						provider, key := "openai", openaiKey
						if i%2 == 1 {
							provider, key = "anthropic", anthropicKey
						}
						_, errs[i] = f.svc.SaveProviderKey(ctx, u, provider, key)
					})
				}
				close(start)
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						testkit.RequireCode(t, err, models.CodePaymentRequired, "provider")
					}
				}
				keys, err := f.svc.ProviderKeys(ctx, u)
				require.NoError(t, err)
				var llm []string
				for _, k := range keys {
					llm = append(llm, k.Provider)
				}
				require.Len(t, llm, 1, "round %d: a free user ended with LLM keys %v", round, llm)
			}
		})
	})
}

// Production wires the accounts service in as Tiers (internal/app), and it reads the
// tier from the users table through the same *bun.DB. On SQLite that pool has one
// connection, which SaveProviderKey's transaction is holding when it asks for the tier.
func TestSaveProviderKeyWithTheAccountsServiceAsTiers(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		accounts, err := auth.NewService(db, auth.Config{
			Tokens:     auth.TokenConfig{Secret: bytes.Repeat([]byte("s"), 32), Issuer: "inkgraph", Audience: "inkgraph-api", TTL: time.Minute},
			RefreshTTL: time.Hour, BcryptCost: 4,
		}, events.NewMemory(logger()), logger(), time.Now)
		require.NoError(t, err)
		f := newFixture(t, db, func(d *onboarding.Deps) { d.Tiers = accounts })
		u := f.user(t, models.TierFree)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = f.svc.SaveProviderKey(ctx, u, "openai", openaiKey)
		require.NoError(t, err, "the tier lookup inside the transaction waits for a connection the transaction holds")
		require.Equal(t, 1, f.count(t, "provider_keys", u))
		_, err = f.svc.SaveProviderKey(ctx, u, "anthropic", anthropicKey)
		testkit.RequireCode(t, err, models.CodePaymentRequired, "provider")
	})
}

func TestLiveKeyChecks(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()

		t.Run("an accepted key is verified", func(t *testing.T) {
			t.Parallel()
			p := newFakeProvider(t)
			f := newFixture(t, db, withLiveChecks(p))
			require.True(t, f.svc.LiveKeyChecks())
			u := f.user(t, models.TierFree)
			now := f.clock.Now()
			k := f.saveKey(t, u, "openai", goodKey)
			require.Equal(t, 1, p.requests())
			require.Equal(t, models.KeyVerified, k.Status)
			requireTime(t, now, k.LastVerifiedAt)
			require.Empty(t, k.LastError)
			require.True(t, k.Validated(true))
			stored := f.storedKey(t, u, "openai")
			require.Equal(t, models.KeyVerified, stored.Status)
			requireTime(t, now, stored.LastVerifiedAt)
			f.completeStep(t, u, models.StepProviderKeys)
		})

		t.Run("a rejected key is not stored and the older key is kept", func(t *testing.T) {
			t.Parallel()
			p := newFakeProvider(t)
			f := newFixture(t, db, withLiveChecks(p))
			u := f.user(t, models.TierFree)

			_, err := f.svc.SaveProviderKey(ctx, u, "openai", badKey)
			e := testkit.RequireCode(t, err, models.CodeBadUserInput, "key")
			require.NotContains(t, e.Message, badKey)
			require.Zero(t, f.count(t, "provider_keys", u))

			f.saveKey(t, u, "openai", goodKey)
			before := f.storedKey(t, u, "openai")
			f.clock.Add(time.Hour)
			_, err = f.svc.SaveProviderKey(ctx, u, "openai", badKey)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "key")
			require.Equal(t, before, f.storedKey(t, u, "openai"))
			plain, _, err := f.svc.RevealProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, goodKey, plain)
		})

		t.Run("a key the provider could not check is stored unverified until checked again", func(t *testing.T) {
			t.Parallel()
			p := newFakeProvider(t)
			f := newFixture(t, db, withLiveChecks(p))
			u := f.user(t, models.TierFree)

			k := f.saveKey(t, u, "openai", flakyKey)
			require.Equal(t, models.KeyUnverified, k.Status)
			require.NotEmpty(t, k.LastError)
			require.NotContains(t, k.LastError, flakyKey)
			require.Nil(t, k.LastVerifiedAt)
			require.True(t, k.FormatValid)
			require.False(t, k.Validated(true))
			stored := f.storedKey(t, u, "openai")
			require.Equal(t, models.KeyUnverified, stored.Status)
			require.Equal(t, k.LastError, stored.LastError)

			_, err := f.svc.CompleteStep(ctx, u, models.StepProviderKeys)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "providerKeys")

			p.set(flakyKey, http.StatusOK)
			verified := f.clock.Add(time.Hour)
			k, err = f.svc.VerifyProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, models.KeyVerified, k.Status)
			requireTime(t, verified, k.LastVerifiedAt)
			require.Empty(t, k.LastError)
			stored = f.storedKey(t, u, "openai")
			require.Equal(t, models.KeyVerified, stored.Status)
			require.Empty(t, stored.LastError)
			requireTime(t, verified, stored.LastVerifiedAt)
			require.True(t, verified.Equal(stored.UpdatedAt))
			f.completeStep(t, u, models.StepProviderKeys)

			// Revoked at the provider since: the next check says so.
			p.set(flakyKey, http.StatusUnauthorized)
			k, err = f.svc.VerifyProviderKey(ctx, u, "openai")
			require.NoError(t, err)
			require.Equal(t, models.KeyInvalid, k.Status)
			require.Nil(t, k.LastVerifiedAt)
			require.NotEmpty(t, k.LastError)
			stored = f.storedKey(t, u, "openai")
			require.Equal(t, models.KeyInvalid, stored.Status)
			require.Nil(t, stored.LastVerifiedAt)
		})

		t.Run("verifying needs a stored key and a verifier", func(t *testing.T) {
			t.Parallel()
			p := newFakeProvider(t)
			f := newFixture(t, db, withLiveChecks(p))
			u := f.user(t, models.TierFree)
			_, err := f.svc.VerifyProviderKey(ctx, u, "openai")
			testkit.RequireCode(t, err, models.CodeNotFound, "")
			_, err = f.svc.VerifyProviderKey(ctx, u, "cohere")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "provider")

			offline := newFixture(t, db)
			v := offline.user(t, models.TierFree)
			offline.saveKey(t, v, "openai", openaiKey)
			_, err = offline.svc.VerifyProviderKey(ctx, v, "openai")
			testkit.RequireCode(t, err, models.CodeForbidden, "")
		})
	})
}

// TestUnreadableKeys swaps two users' ciphertexts in the database: neither key opens
// (each is sealed to its user), the listing says which to enter again, the operations
// that need the key answer KEY_UNREADABLE without asking the provider, and saving the
// key again mends it.
func TestUnreadableKeys(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		p := newFakeProvider(t)
		p.set(openaiKey2, http.StatusOK)
		f := newFixture(t, db, withLiveChecks(p))
		a, b := f.user(t, models.TierFree), f.user(t, models.TierFree)
		f.saveKey(t, a, "openai", goodKey)
		f.saveKey(t, b, "openai", openaiKey2)
		f.completeStep(t, a, models.StepProviderKeys)
		keyA, keyB := f.storedKey(t, a, "openai"), f.storedKey(t, b, "openai")
		for user, ciphertext := range map[string][]byte{a: keyB.Ciphertext, b: keyA.Ciphertext} {
			_, err := db.NewUpdate().Table("provider_keys").Set("ciphertext = ?", ciphertext).
				Where("user_id = ? AND provider = ?", user, "openai").Exec(ctx)
			require.NoError(t, err)
		}
		swappedA := f.storedKey(t, a, "openai")
		asked := p.requests()

		for user, secrets := range map[string][]string{a: {goodKey, openaiKey2}, b: {goodKey, openaiKey2}} {
			keys, err := f.svc.ProviderKeys(ctx, user)
			require.NoError(t, err)
			require.Len(t, keys, 1)
			require.Equal(t, models.KeyUnreadable, keys[0].Status, "not the VERIFIED stored")
			require.False(t, keys[0].Validated(true))
			require.Contains(t, keys[0].LastError, "enter it again")

			_, err = f.svc.VerifyProviderKey(ctx, user, "openai")
			e := testkit.RequireCode(t, err, models.CodeKeyUnreadable, "provider")
			plain, k, err := f.svc.RevealProviderKey(ctx, user, "openai")
			testkit.RequireCode(t, err, models.CodeKeyUnreadable, "provider")
			require.Empty(t, plain)
			require.Nil(t, k)
			for _, secret := range secrets {
				require.NotContains(t, err.Error(), secret)
				require.NotContains(t, e.Error(), secret)
			}
		}
		require.Equal(t, asked, p.requests(), "no unreadable key reaches the provider")
		require.Equal(t, swappedA, f.storedKey(t, a, "openai"), "a refused verification stores nothing")
		s, err := f.svc.Summary(a).HasValidatedKey(ctx)
		require.NoError(t, err)
		require.False(t, s, "an unreadable key does not count for the step")

		f.saveKey(t, a, "openai", goodKey)
		keys, err := f.svc.ProviderKeys(ctx, a)
		require.NoError(t, err)
		require.Equal(t, models.KeyVerified, keys[0].Status, "entering it again mends it")
		plain, _, err := f.svc.RevealProviderKey(ctx, a, "openai")
		require.NoError(t, err)
		require.Equal(t, goodKey, plain)
		keys, err = f.svc.ProviderKeys(ctx, b)
		require.NoError(t, err)
		require.Equal(t, models.KeyUnreadable, keys[0].Status, "b's is still swapped")
	})
}

// RotateKeys works on every user's keys, so this test has its databases to itself.
func TestRotateKeys(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // ring {1}
		a, b := f.user(t, models.TierPro), f.user(t, models.TierFree)
		plain := map[[2]string]string{
			{a, "openai"}: openaiKey, {a, "anthropic"}: anthropicKey,
			{b, "openai"}: openaiKey2, {b, "tavily"}: tavilyKey,
		}
		for k, key := range plain {
			f.saveKey(t, k[0], k[1], key)
		}
		ciphertexts := func() map[[2]string][]byte {
			out := map[[2]string][]byte{}
			for k := range plain {
				out[k] = f.storedKey(t, k[0], k[1]).Ciphertext
			}
			return out
		}
		sealedV1 := ciphertexts()

		onlyV2 := f.with(t, withRing(newRing(t, 2)))
		both := f.with(t, withRing(newRing(t, 1, 2)))

		t.Run("a ring without the old version fails and leaves the keys", func(t *testing.T) {
			r, err := onlyV2.RotateKeys(ctx)
			require.NoError(t, err)
			require.Equal(t, &onboarding.RotationResult{Current: 2, Resealed: 0, Failed: 4, Passes: 2, ByVersion: map[int]int{1: 4}}, r)
			require.Equal(t, sealedV1, ciphertexts())
			_, _, err = onlyV2.RevealProviderKey(ctx, a, "openai")
			testkit.RequireCode(t, err, models.CodeKeyUnreadable, "provider")
		})

		t.Run("a ring with both versions reseals every key", func(t *testing.T) {
			r, err := both.RotateKeys(ctx)
			require.NoError(t, err)
			require.Equal(t, &onboarding.RotationResult{Current: 2, Resealed: 4, Failed: 0, Passes: 2, ByVersion: map[int]int{2: 4}}, r)
			after := ciphertexts()
			for k, key := range plain {
				require.NotEqual(t, sealedV1[k], after[k], "%v was not resealed", k)
				v, err := keyring.Version(after[k])
				require.NoError(t, err)
				require.Equal(t, 2, v)
				require.Equal(t, 2, f.storedKey(t, k[0], k[1]).KeyVersion)
				got, _, err := both.RevealProviderKey(ctx, k[0], k[1])
				require.NoError(t, err)
				require.Equal(t, key, got)
				got, _, err = onlyV2.RevealProviderKey(ctx, k[0], k[1])
				require.NoError(t, err, "version 1 is no longer needed")
				require.Equal(t, key, got)
			}
			_, _, err = f.svc.RevealProviderKey(ctx, a, "openai")
			testkit.RequireCode(t, err, models.CodeKeyUnreadable, "provider")

			t.Run("running again reseals nothing", func(t *testing.T) {
				r, err := both.RotateKeys(ctx)
				require.NoError(t, err)
				require.Equal(t, &onboarding.RotationResult{Current: 2, Resealed: 0, Failed: 0, Passes: 1, ByVersion: map[int]int{2: 4}}, r)
				require.Equal(t, after, ciphertexts())
			})

			t.Run("new keys are sealed with the current version", func(t *testing.T) {
				k, err := both.SaveProviderKey(ctx, a, "gemini", geminiKey)
				require.NoError(t, err)
				require.Equal(t, 2, k.KeyVersion)
			})
		})
	})
}

// TestRotateKeysUnderConcurrentSaves rotates while instances that still seal with
// version 1 keep saving keys: one whose ring lacks version 2, one that has it but is
// pinned to 1. When the rotation succeeds no key is left under version 1, and none
// appears after it either; the instance without version 2 is refused instead.
func TestRotateKeysUnderConcurrentSaves(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db) // ring {1}
		pinnedRing, err := newRing(t, 1, 2).WithCurrent(1)
		require.NoError(t, err)
		stale, pinned := f.svc, f.with(t, withRing(pinnedRing))
		rotator := f.with(t, withRing(newRing(t, 1, 2)))

		const users = 40
		ids := make([]string, users)
		for i := range ids {
			ids[i] = f.user(t, models.TierPro)
			f.saveKey(t, ids[i], "openai", openaiKey)
		}
		oldKeys := func() int {
			n, err := db.NewSelect().Table("provider_keys").Where("key_version <> 2").Count(ctx)
			require.NoError(t, err)
			return int(n)
		}
		require.Equal(t, users, oldKeys())

		stop := make(chan struct{})
		var saves sync.WaitGroup
		var mu sync.Mutex
		codes := map[string]int{}
		for w, svc := range []*onboarding.Service{stale, pinned, stale, pinned} {
			saves.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					key := []string{openaiKey, openaiKey2}[i%2]
					_, err := svc.SaveProviderKey(ctx, ids[(i*7+w)%users], []string{"openai", "anthropic"}[w%2], map[bool]string{true: key, false: anthropicKey}[w%2 == 0])
					mu.Lock()
					codes[models.ErrorCode(err)]++
					mu.Unlock()
				}
			})
		}
		r, err := rotator.RotateKeys(ctx)
		close(stop)
		saves.Wait()
		require.NoError(t, err)
		require.Zero(t, r.Failed)
		require.Zero(t, oldKeys(), "no key under version 1 after the rotation (%+v, saves %v)", r, codes)
		t.Logf("rotation %+v; saves by outcome %v", r, codes)
		for code := range codes {
			require.Contains(t, []string{"", models.CodeInternal}, code, "saves succeed, or (the ring without version 2) are refused")
		}

		// After it, the pinned instance seals with version 2 and the stale one is refused.
		k, err := pinned.SaveProviderKey(ctx, ids[0], "gemini", geminiKey)
		require.NoError(t, err)
		require.Equal(t, 2, k.KeyVersion)
		_, err = stale.SaveProviderKey(ctx, ids[0], "gemini", geminiKey)
		testkit.RequireCode(t, err, models.CodeInternal, "")
		require.Zero(t, oldKeys())
	})
}

// TestRotateKeysGivesUp stands in for an instance that keeps putting keys back under
// an older version (one of a release before the rule that a save never seals with a
// version older than one stored): a trigger undoes every reseal. RotateKeys gives up
// after its bounded passes with CONFLICT saying how many remain, not success.
func TestRotateKeysGivesUp(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		for range 3 {
			f.saveKey(t, f.user(t, models.TierFree), "openai", openaiKey)
		}
		stmts := []string{`CREATE TRIGGER keep_version_1 AFTER UPDATE OF key_version ON provider_keys
			WHEN NEW.key_version = 2 BEGIN UPDATE provider_keys SET key_version = 1 WHERE id = NEW.id; END`}
		if db.Dialect().Name() == dialect.PG {
			stmts = []string{
				`CREATE FUNCTION keep_version_1() RETURNS trigger AS $$ BEGIN NEW.key_version := 1; RETURN NEW; END $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER keep_version_1 BEFORE UPDATE ON provider_keys FOR EACH ROW WHEN (NEW.key_version = 2) EXECUTE FUNCTION keep_version_1()`,
			}
		}
		for _, s := range stmts {
			_, err := db.ExecContext(ctx, s)
			require.NoError(t, err)
		}
		_, err := f.with(t, withRing(newRing(t, 1, 2))).RotateKeys(ctx)
		e := testkit.RequireCode(t, err, models.CodeConflict, "")
		require.Contains(t, e.Message, "after 10 passes 3 provider keys are still sealed with a version older than 2")
	})
}
