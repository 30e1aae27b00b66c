package auth_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	eventbus "github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// resumingBus is an in-process bus that, like the PostgreSQL one, can lose events
// while "disconnected" and says when it listens again.
type resumingBus struct {
	*eventbus.Memory
	mu       sync.Mutex
	down     bool
	onResume []func()
}

func (b *resumingBus) Publish(ctx context.Context, topic string, payload []byte) error {
	b.mu.Lock()
	down := b.down
	b.mu.Unlock()
	if down {
		return nil // lost, as NOTIFYs are while an instance's LISTEN connection is down
	}
	return b.Memory.Publish(ctx, topic, payload)
}

func (b *resumingBus) OnResume(fn func()) (stop func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.onResume = append(b.onResume, fn)
	return func() {}
}

func (b *resumingBus) setDown(down bool) {
	b.mu.Lock()
	b.down = down
	fns := b.onResume
	b.mu.Unlock()
	if !down {
		for _, fn := range fns {
			go fn()
		}
	}
}

// TestRevocationsAcrossInstances: a session revoked by one service instance is known
// revoked by another on the same database and bus once the event arrives, and by
// itself at once; a revocation whose event was lost while the bus was away is learnt
// when the bus listens again; one revoked before an instance started is learnt at its
// start; sockets' watches fire; and a socket of a session that never existed is refused.
func TestRevocationsAcrossInstances(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		bus := &resumingBus{Memory: eventbus.NewMemory(nil)}
		t.Cleanup(func() { _ = bus.Close() })
		a := newFixtureWithBus(t, db, bus)
		b := newFixtureWithBus(t, db, bus)
		require.NoError(t, a.svc.FollowRevocations(ctx))
		require.NoError(t, b.svc.FollowRevocations(ctx))

		signIn := func(email string) (*models.AuthPayload, models.Caller) {
			p, err := a.svc.Register(ctx, auth.Credentials{Email: email, Password: "password1"})
			require.NoError(t, err)
			caller, err := a.svc.Tokens().Verify(p.AccessToken)
			require.NoError(t, err)
			require.NoError(t, b.svc.Revocations().Check(caller))
			require.NoError(t, b.svc.CheckSession(ctx, caller))
			return p, caller
		}

		p, caller := signIn("one@example.com")
		watched := make(chan struct{})
		b.svc.Revocations().Watch(caller.SessionID, func() { close(watched) })
		unwatched := make(chan struct{}, 1)
		b.svc.Revocations().Watch(caller.SessionID, func() { unwatched <- struct{}{} })()
		_, err := a.svc.Logout(ctx, p.RefreshToken)
		require.NoError(t, err)
		testkit.RequireCode(t, a.svc.Revocations().Check(caller), models.CodeUnauthenticated, "")
		require.Eventually(t, func() bool { return b.svc.Revocations().Revoked(caller.SessionID) }, 10*time.Second, time.Millisecond)
		testkit.RequireCode(t, b.svc.Revocations().Check(caller), models.CodeUnauthenticated, "")
		testkit.RequireCode(t, b.svc.CheckSession(ctx, caller), models.CodeUnauthenticated, "")
		recvWithin(t, watched)
		require.Empty(t, unwatched, "a stopped watch does not fire")

		// The event is lost while B's bus is away; B learns it when the bus is back.
		p, caller = signIn("two@example.com")
		bus.setDown(true)
		_, err = a.svc.Logout(ctx, p.RefreshToken)
		require.NoError(t, err)
		require.False(t, b.svc.Revocations().Revoked(caller.SessionID), "the event was lost")
		bus.setDown(false)
		require.Eventually(t, func() bool { return b.svc.Revocations().Revoked(caller.SessionID) }, 10*time.Second, time.Millisecond)

		// An instance that starts later knows the sessions revoked before it.
		c := newFixtureWithBus(t, db, bus)
		require.NoError(t, c.svc.FollowRevocations(ctx))
		require.True(t, c.svc.Revocations().Revoked(caller.SessionID))

		// A watch of a session already revoked fires at once.
		already := make(chan struct{})
		c.svc.Revocations().Watch(caller.SessionID, func() { close(already) })
		recvWithin(t, already)

		// A token for a session this server never issued.
		forged, _, err := a.svc.Tokens().Issue(caller.UserID, "01900000-0000-7000-8000-000000000000")
		require.NoError(t, err)
		ghost, err := a.svc.Tokens().Verify(forged)
		require.NoError(t, err)
		testkit.RequireCode(t, a.svc.CheckSession(ctx, ghost), models.CodeUnauthenticated, "")
	})
}

func recvWithin(t *testing.T, ch <-chan struct{}) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("the watch did not fire")
	}
}

// newFixtureWithBus is a fixture whose service publishes on bus.
func newFixtureWithBus(t *testing.T, db *bun.DB, bus auth.Events, tune ...func(*auth.Config)) *fixture {
	t.Helper()
	f := newFixtureWith(t, db, nil)
	cfg := auth.Config{
		Tokens:     auth.TokenConfig{Secret: secret, Issuer: "inkgraph", Audience: "inkgraph-api", TTL: 15 * time.Minute},
		RefreshTTL: 24 * time.Hour, BcryptCost: 4, ReuseGrace: 2 * time.Second,
	}
	for _, fn := range tune {
		fn(&cfg)
	}
	svc, err := auth.NewService(db, cfg, bus, slog.New(slog.DiscardHandler), time.Now)
	require.NoError(t, err)
	f.svc = svc
	return f
}

// TestRevocationsResync: a revocation whose event never arrived (the bus drops events
// for a subscriber that falls behind, with no resume to follow) is learnt at the next
// periodic read of the sessions table.
func TestRevocationsResync(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := t.Context()
		bus := eventbus.NewMemory(nil)
		t.Cleanup(func() { _ = bus.Close() })
		a := newFixtureWithBus(t, db, bus)
		lossy := &resumingBus{Memory: eventbus.NewMemory(nil)} // hears nothing of a's bus
		t.Cleanup(func() { _ = lossy.Close() })
		b := newFixtureWithBus(t, db, lossy, func(c *auth.Config) { c.RevocationResync = 20 * time.Millisecond })
		require.NoError(t, b.svc.FollowRevocations(ctx))

		p, err := a.svc.Register(ctx, auth.Credentials{Email: "resync@example.com", Password: "password1"})
		require.NoError(t, err)
		caller, err := a.svc.Tokens().Verify(p.AccessToken)
		require.NoError(t, err)
		_, err = a.svc.Logout(ctx, p.RefreshToken)
		require.NoError(t, err)
		require.Eventually(t, func() bool { return b.svc.Revocations().Revoked(caller.SessionID) }, 10*time.Second, 5*time.Millisecond,
			"b never heard the event, and learns the revocation from the table")

		// An API key's too: the sockets it opened on b close.
		p, err = a.svc.Login(ctx, auth.Credentials{Email: "resync@example.com", Password: "password1"})
		require.NoError(t, err)
		caller, err = a.svc.Tokens().Verify(p.AccessToken)
		require.NoError(t, err)
		key, err := a.svc.CreateAPIKey(ctx, caller, auth.APIKeyInput{Name: "resync", Scopes: []models.Scope{models.ScopeRead}})
		require.NoError(t, err)
		keyCaller, err := b.svc.AuthenticateAPIKey(ctx, key.Key)
		require.NoError(t, err)
		closed := make(chan struct{})
		stop := b.svc.Revocations().Watch(auth.CredentialID(keyCaller), func() { close(closed) })
		defer stop()
		_, err = a.svc.RevokeAPIKey(ctx, caller, key.APIKey.ID)
		require.NoError(t, err)
		select {
		case <-closed:
		case <-time.After(10 * time.Second):
			t.Fatal("b never learnt that the key was revoked")
		}
	})
}
