package auth_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// events records what the service publishes (account events in published, the
// revocation sets' events in revocations); Subscribe hands out a channel the test feeds.
type events struct {
	mu          sync.Mutex
	published   []models.AccountEvent
	topics      []string
	revocations []string
}

func (e *events) Publish(_ context.Context, topic string, payload []byte) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if topic == "sessions.revoked" {
		e.revocations = append(e.revocations, string(payload))
		return nil
	}
	var ev models.AccountEvent
	if err := json.Unmarshal(payload, &ev); err != nil {
		return err
	}
	e.published = append(e.published, ev)
	e.topics = append(e.topics, topic)
	return nil
}

func (e *events) Subscribe(ctx context.Context, topic string) (<-chan []byte, error) {
	ch := make(chan []byte)
	go func() { <-ctx.Done(); close(ch) }()
	return ch, nil
}

func (e *events) all() []models.AccountEvent {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]models.AccountEvent(nil), e.published...)
}

var secret = []byte("0123456789abcdef0123456789abcdef")

type fixture struct {
	svc    *auth.Service
	db     *bun.DB
	clock  *testkit.Clock
	events *events
}

func newFixture(t *testing.T, db *bun.DB) *fixture {
	t.Helper()
	return newFixtureWith(t, db, nil)
}

// newFixtureWith is newFixture with the service's configuration adjusted by tune.
func newFixtureWith(t testing.TB, db *bun.DB, tune func(*auth.Config)) *fixture {
	t.Helper()
	c := testkit.NewClock(time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC))
	ev := &events{}
	cfg := auth.Config{
		Tokens:     auth.TokenConfig{Secret: secret, Issuer: "inkgraph", Audience: "inkgraph-api", TTL: 15 * time.Minute},
		RefreshTTL: 24 * time.Hour,
		BcryptCost: 4,
		ReuseGrace: 2 * time.Second,
	}
	if tune != nil {
		tune(&cfg)
	}
	svc, err := auth.NewService(db, cfg, ev, slog.New(slog.DiscardHandler), c.Now)
	require.NoError(t, err)
	return &fixture{svc: svc, db: db, clock: c, events: ev}
}

func (f *fixture) count(t *testing.T, table string) int {
	t.Helper()
	n, err := f.db.NewSelect().Table(table).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func TestAccounts(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Run("register validates input and stores nothing when it refuses", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			_, err := f.svc.Register(ctx, auth.Credentials{Email: "Taken@Example.com", Password: "password1"})
			require.NoError(t, err)
			users, sessions := f.count(t, "users"), f.count(t, "sessions")

			for _, tc := range []struct {
				name, email, password, code, field string
			}{
				{"empty email", "", "password1", models.CodeBadUserInput, "email"},
				{"blank email", "   ", "password1", models.CodeBadUserInput, "email"},
				{"no at sign", "not-an-email", "password1", models.CodeBadUserInput, "email"},
				{"display name", "Ann <ann@example.com>", "password1", models.CodeBadUserInput, "email"},
				{"no dot in domain", "ann@localhost", "password1", models.CodeBadUserInput, "email"},
				{"two at signs", "a@b@example.com", "password1", models.CodeBadUserInput, "email"},
				{"too long", strings.Repeat("a", 250) + "@example.com", "password1", models.CodeBadUserInput, "email"},
				{"short password", "ann@example.com", "1234567", models.CodeBadUserInput, "password"},
				{"73-byte password", "ann@example.com", strings.Repeat("p", 73), models.CodeBadUserInput, "password"},
				{"multibyte password over 72 bytes", "ann@example.com", strings.Repeat("é", 37), models.CodeBadUserInput, "password"},
				// A taken email is answered as login answers a wrong password (register_test.go).
				{"duplicate", "taken@example.com", "password2", models.CodeUnauthenticated, ""},
				{"duplicate other case", " TAKEN@example.COM ", "password2", models.CodeUnauthenticated, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					_, err := f.svc.Register(ctx, auth.Credentials{Email: tc.email, Password: tc.password})
					testkit.RequireCode(t, err, tc.code, tc.field)
					require.Equal(t, users, f.count(t, "users"))
					require.Equal(t, sessions, f.count(t, "sessions"))
				})
			}
		})

		t.Run("register accepts a 72-byte password and normalises the email", func(t *testing.T) {
			f := newFixture(t, db)
			p, err := f.svc.Register(context.Background(), auth.Credentials{Email: "  Bob@Example.COM ", Password: strings.Repeat("b", 72)})
			require.NoError(t, err)
			require.Equal(t, "bob@example.com", p.User.Email)
			require.Equal(t, models.TierFree, p.User.Tier)
			require.NotEmpty(t, p.AccessToken)
			require.True(t, strings.HasPrefix(p.RefreshToken, "igr_"))
			require.Equal(t, f.clock.Now().Add(15*time.Minute), p.ExpiresAt)

			caller, err := f.svc.Tokens().Verify(p.AccessToken)
			require.NoError(t, err)
			require.Equal(t, p.User.ID, caller.UserID)

			var stored models.RefreshToken
			require.NoError(t, db.NewSelect().Model(&stored).Where("user_id = ?", p.User.ID).Scan(context.Background()))
			require.NotContains(t, stored.TokenHash, strings.TrimPrefix(p.RefreshToken, "igr_"), "only the hash is stored")
			require.Len(t, stored.TokenHash, 64)
		})

		t.Run("wrong email and wrong password give the same error", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			_, err := f.svc.Register(ctx, auth.Credentials{Email: "carol@example.com", Password: "correct horse"})
			require.NoError(t, err)

			_, wrongPassword := f.svc.Login(ctx, auth.Credentials{Email: "carol@example.com", Password: "wrong horse"})
			_, wrongEmail := f.svc.Login(ctx, auth.Credentials{Email: "nobody@example.com", Password: "correct horse"})
			testkit.RequireCode(t, wrongPassword, models.CodeUnauthenticated, "")
			require.Equal(t, wrongPassword.Error(), wrongEmail.Error())

			p, err := f.svc.Login(ctx, auth.Credentials{Email: "CAROL@example.com", Password: "correct horse"})
			require.NoError(t, err)
			require.Equal(t, "carol@example.com", p.User.Email)
		})

		t.Run("refresh rotates, and a reused token revokes the whole session", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			first, err := f.svc.Register(ctx, auth.Credentials{Email: "dan@example.com", Password: "password1"})
			require.NoError(t, err)
			other, err := f.svc.Login(ctx, auth.Credentials{Email: "dan@example.com", Password: "password1"})
			require.NoError(t, err)

			f.clock.Add(time.Minute)
			second, err := f.svc.Refresh(ctx, first.RefreshToken, "")
			require.NoError(t, err)
			require.NotEqual(t, first.RefreshToken, second.RefreshToken)
			third, err := f.svc.Refresh(ctx, second.RefreshToken, "")
			require.NoError(t, err)

			f.clock.Add(time.Minute) // past the grace: this is a replay
			_, err = f.svc.Refresh(ctx, first.RefreshToken, "")
			testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
			require.Contains(t, err.Error(), "revoked")

			_, err = f.svc.Refresh(ctx, third.RefreshToken, "")
			testkit.RequireCode(t, err, models.CodeUnauthenticated, "")

			evs := f.events.all()
			require.Len(t, evs, 1)
			require.Equal(t, new(models.RevokedByTokenReuse), evs[0].Reason)
			caller, err := f.svc.Tokens().Verify(first.AccessToken)
			require.NoError(t, err)
			require.Equal(t, caller.SessionID, evs[0].SessionID)

			_, err = f.svc.Refresh(ctx, other.RefreshToken, "")
			require.NoError(t, err, "another session of the same user is untouched")
		})

		t.Run("two concurrent refreshes of one token: exactly one wins", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			p, err := f.svc.Register(ctx, auth.Credentials{Email: "erin@example.com", Password: "password1"})
			require.NoError(t, err)

			const n = 8
			var wg sync.WaitGroup
			results := make(chan *models.AuthPayload, n)
			errs := make(chan error, n)
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					got, err := f.svc.Refresh(ctx, p.RefreshToken, "")
					if err != nil {
						errs <- err
						return
					}
					results <- got
				})
			}
			close(start)
			wg.Wait()
			close(results)
			close(errs)
			require.Len(t, results, 1)
			for err := range errs {
				testkit.RequireCode(t, err, models.CodeConflict, "")
			}
			winner := <-results
			_, err = f.svc.Refresh(ctx, winner.RefreshToken, "")
			require.NoError(t, err, "the losers did not revoke the winner's session")
			require.Empty(t, f.events.all())
		})

		t.Run("concurrent replays of a spent token all fail and revoke once", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			p, err := f.svc.Register(ctx, auth.Credentials{Email: "hal@example.com", Password: "password1"})
			require.NoError(t, err)
			_, err = f.svc.Refresh(ctx, p.RefreshToken, "")
			require.NoError(t, err)
			f.clock.Add(time.Minute) // past the grace: these are replays

			const n = 8
			errs := make(chan error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for range n {
				wg.Go(func() {
					<-start
					got, err := f.svc.Refresh(ctx, p.RefreshToken, "")
					if err == nil {
						err = fmt.Errorf("replay succeeded: %+v", got)
					}
					errs <- err
				})
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
			}
			evs := f.events.all()
			require.Len(t, evs, 1, "the session is revoked once")
			require.Equal(t, new(models.RevokedByTokenReuse), evs[0].Reason)
		})

		t.Run("expired and unknown refresh tokens are refused", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			p, err := f.svc.Register(ctx, auth.Credentials{Email: "fay@example.com", Password: "password1"})
			require.NoError(t, err)
			_, err = f.svc.Refresh(ctx, "igr_not-a-token", "")
			testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
			_, err = f.svc.Refresh(ctx, "", "")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "refreshToken")

			f.clock.Add(25 * time.Hour)
			_, err = f.svc.Refresh(ctx, p.RefreshToken, "")
			testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
			require.Contains(t, err.Error(), "expired")
		})

		t.Run("logout revokes the session once and tells subscribers", func(t *testing.T) {
			f := newFixture(t, db)
			ctx := context.Background()
			p, err := f.svc.Register(ctx, auth.Credentials{Email: "gil@example.com", Password: "password1"})
			require.NoError(t, err)

			out, err := f.svc.Logout(ctx, p.RefreshToken)
			require.NoError(t, err)
			again, err := f.svc.Logout(ctx, p.RefreshToken)
			require.NoError(t, err)
			require.Equal(t, out.SessionID, again.SessionID)
			require.True(t, out.RevokedAt.Equal(again.RevokedAt))

			_, err = f.svc.Refresh(ctx, p.RefreshToken, "")
			testkit.RequireCode(t, err, models.CodeUnauthenticated, "")

			evs := f.events.all()
			require.Len(t, evs, 1, "the second logout changes nothing")
			require.Equal(t, new(models.RevokedByLogout), evs[0].Reason)
			require.Equal(t, []string{"account." + p.User.ID}, f.events.topics)

			_, err = f.svc.Logout(ctx, "igr_unknown")
			testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
		})
	})
}

// TestLoginRefusesWhatBcryptWouldTruncate: a registered 72-byte password followed by
// any tail is a wrong password, not the same one.
func TestLoginRefusesWhatBcryptWouldTruncate(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		password := strings.Repeat("p", 72)
		_, err := f.svc.Register(ctx, auth.Credentials{Email: "long@example.com", Password: password})
		require.NoError(t, err)
		sessions := f.count(t, "sessions")

		_, err = f.svc.Login(ctx, auth.Credentials{Email: "long@example.com", Password: password + "anything"})
		testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
		require.Equal(t, sessions, f.count(t, "sessions"), "a refused sign-in starts no session")

		_, err = f.svc.Login(ctx, auth.Credentials{Email: "long@example.com", Password: password})
		require.NoError(t, err, "the registered password itself still signs in")
	})
}
