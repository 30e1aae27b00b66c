package onboarding_test

// Regressions found in review: each test failed before its fix.

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/internal/persona"
	"github.com/inkgraph/inkgraph/internal/platform/keyring"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

type countingGenerator struct {
	n     atomic.Int32
	inner onboarding.PersonaGenerator
}

func (g *countingGenerator) Generate(ctx context.Context, in persona.Input) (*models.PersonaDraft, error) {
	g.n.Add(1)
	return g.inner.Generate(ctx, in)
}

// A refused completion must not pay for a persona generation (an LLM call).
func TestCompleteChecksBeforeGenerating(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		gen := &countingGenerator{inner: persona.NewGenerator(nil, logger())}
		f := newFixture(t, db, func(d *onboarding.Deps) { d.Generator = gen })
		u := f.user(t, models.TierFree)
		ctx := context.Background()
		f.business(t, u)
		f.prefs(t, u) // inputs for a persona exist; steps 1-3 were never completed
		for range 3 {
			_, err := f.svc.Complete(ctx, u)
			testkit.RequireCode(t, err, models.CodeBadUserInput, "step")
		}
		require.Zero(t, gen.n.Load())

		f.saveKey(t, u, "openai", openaiKey)
		for _, st := range []models.Step{models.StepProviderKeys, models.StepWebsite, models.StepResearch} {
			f.completeStep(t, u, st)
		}
		errs := make([]error, 6)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = f.svc.Complete(ctx, u) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.Len(t, f.personas(t, u), 1, "concurrent completions save one persona")
	})
}

// lockWaiters waits until n PostgreSQL backends of this database wait on a lock.
func lockWaiters(t *testing.T, db *bun.DB, n int) {
	t.Helper()
	require.Eventually(t, func() bool {
		var c int
		err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`).Scan(context.Background(), &c)
		return err == nil && c >= n
	}, 10*time.Second, 5*time.Millisecond)
}

// holdUser takes the user's lock as the service's writers do, until release.
func holdUser(t *testing.T, db *bun.DB, userID string) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(ctx, `SELECT id FROM users WHERE id = ? FOR UPDATE`, userID)
	require.NoError(t, err)
	return func() { require.NoError(t, tx.Commit()) }
}

// Two partial updates at once on PostgreSQL (READ COMMITTED) keep both changes.
func TestConcurrentBusinessInfoUpdatesKeepBothChanges(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.Postgres)
	f := newFixture(t, db)
	u := f.user(t, models.TierFree)
	ctx := context.Background()
	f.business(t, u)

	release := holdUser(t, db, u)
	var wg sync.WaitGroup
	wg.Go(func() {
		_, err := f.svc.UpdateBusinessInfo(ctx, u, onboarding.BusinessInfoInput{BusinessName: ptr("Name from A")})
		require.NoError(t, err)
	})
	wg.Go(func() {
		_, err := f.svc.UpdateBusinessInfo(ctx, u, onboarding.BusinessInfoInput{Description: ptr("Description from B, long enough.")})
		require.NoError(t, err)
	})
	lockWaiters(t, db, 2)
	release()
	wg.Wait()

	b, err := f.svc.BusinessInfo(ctx, u)
	require.NoError(t, err)
	require.Equal(t, "Name from A", b.BusinessName)
	require.Equal(t, "Description from B, long enough.", b.Description)
}

// Two replacements of the integrations at once: both succeed, the last one wins whole.
func TestConcurrentIntegrationReplacements(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.Postgres)
	f := newFixture(t, db)
	u := f.user(t, models.TierFree)
	ctx := context.Background()
	release := holdUser(t, db, u)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, kinds := range [][]string{{"WORDPRESS", "WIX"}, {"WORDPRESS", "MEDIUM"}} {
		wg.Go(func() { _, errs[i] = f.svc.SetIntegrations(ctx, u, kinds) })
	}
	lockWaiters(t, db, 2)
	release()
	wg.Wait()
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, 2, f.count(t, "onboarding_integrations", u), "a replacement, not a union")
}

// A server running with the old ring still reads keys `keys rotate` resealed with a
// version it has not loaded: it reloads the ring once. A check during the rotation is
// not taken for a replaced key.
func TestRotationBesideARunningServer(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		full := newRing(t, 1, 2)
		// The ring file as a running server would read it again: version 2 appears in
		// it when the rotation adds it.
		file, reloads := newRing(t, 1), 0
		f := newFixture(t, db, withRing(newRing(t, 1)), func(d *onboarding.Deps) {
			d.ReloadRing = func() (*keyring.Ring, error) { reloads++; return file, nil }
		})
		u := f.user(t, models.TierFree)
		ctx := context.Background()
		f.saveKey(t, u, "openai", openaiKey)

		// Pinned to version 1 (decrypt-only rollout of version 2): new keys are sealed
		// with 1 while nothing is stored under 2.
		pinned, err := full.WithCurrent(1)
		require.NoError(t, err)
		svc := f.with(t, withRing(pinned))
		_, err = svc.SaveProviderKey(ctx, u, "tavily", "tvly-abcdefghijklmnopqrstuvwxyz")
		require.NoError(t, err)
		require.Equal(t, 1, f.storedKey(t, u, "tavily").KeyVersion)

		file = full
		res, err := f.with(t, withRing(full)).RotateKeys(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, res.Resealed)

		before := reloads
		plain, k, err := f.svc.RevealProviderKey(ctx, u, "openai")
		require.NoError(t, err)
		require.Equal(t, openaiKey, plain)
		require.Equal(t, 2, k.KeyVersion)
		require.Equal(t, before+1, reloads)
		_, _, err = f.svc.RevealProviderKey(ctx, u, "openai")
		require.NoError(t, err)
		require.Equal(t, before+1, reloads, "reloaded once, then known")

		// Still pinned, but the rotation has stored keys under 2: sealing with 1 would
		// leave a key behind it, so the pinned instance seals with 2, and values sealed
		// with 2 open.
		_, err = svc.SaveProviderKey(ctx, u, "tavily", "tvly-abcdefghijklmnopqrstuvwxy2")
		require.NoError(t, err)
		require.Equal(t, 2, f.storedKey(t, u, "tavily").KeyVersion)
		_, _, err = svc.RevealProviderKey(ctx, u, "openai")
		require.NoError(t, err)
	})
}

// A new subscriber hears the current state at once, so a change made just before it
// subscribed is not missed.
func TestProgressEventsStartWithTheCurrentState(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		u := f.user(t, models.TierFree)
		f.saveKey(t, u, "openai", openaiKey)
		f.completeStep(t, u, models.StepProviderKeys)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ch, err := f.svc.ProgressEvents(ctx, u)
		require.NoError(t, err)
		select {
		case p := <-ch:
			require.Equal(t, models.StepWebsite, p.CurrentStep)
			require.Equal(t, models.StepCompleted, p.Steps[0].Status)
		case <-time.After(10 * time.Second):
			t.Fatal("no initial progress")
		}
	})
}
