package auth_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// from is a context whose client address is addr, as the server's middleware sets it.
func from(addr string) context.Context {
	return clientip.With(context.Background(), netip.MustParseAddr(addr))
}

// requireRateLimited checks err is RATE_LIMITED with retryAfter and returns its message.
func requireRateLimited(t *testing.T, err error, retryAfter time.Duration) (message string) {
	t.Helper()
	e := testkit.RequireCode(t, err, models.CodeRateLimited)
	require.Equal(t, retryAfter, e.RetryAfter)
	return e.Message
}

// limited is the fixture with sign-in budgets (the in-process default limiter, on the
// fixture's clock): three attempts per account per 15 minutes (one back every 5), and
// perIP per address.
func limited(t *testing.T, perIP int) *fixture {
	t.Helper()
	return newFixtureWith(t, testkit.NewDB(t, testkit.SQLite), func(c *auth.Config) {
		c.LoginLimitPerAccount = ratelimit.Limit{Rate: 3, Period: 15 * time.Minute, Burst: 3}
		c.LoginLimitPerIP = ratelimit.Limit{Rate: perIP, Period: 15 * time.Minute, Burst: perIP}
	})
}

func TestLoginLimitPerAccount(t *testing.T) {
	t.Parallel()
	f := limited(t, 100)
	_, err := f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	require.NoError(t, err)

	// Each guess comes from another address: only the account's budget can stop them.
	guess := func(i int, email, password string) error {
		_, err := f.svc.Login(from(netip.AddrFrom4([4]byte{198, 51, 100, byte(i)}).String()), auth.Credentials{Email: email, Password: password})
		return err
	}
	for i := range 3 {
		testkit.RequireCode(t, guess(i, "ann@example.com", "wrong-password"), models.CodeUnauthenticated, "")
	}
	known := requireRateLimited(t, guess(3, "ann@example.com", "password1"), 5*time.Minute)

	// An unknown address is limited exactly alike: the refusal says nothing about
	// whether the account exists.
	for i := range 3 {
		testkit.RequireCode(t, guess(10+i, "nobody@example.com", "wrong-password"), models.CodeUnauthenticated, "")
	}
	unknown := requireRateLimited(t, guess(13, "nobody@example.com", "password1"), 5*time.Minute)
	require.Equal(t, known, unknown)

	// The budget is the normalized address's, whatever its spelling.
	requireRateLimited(t, guess(20, "  ANN@Example.COM ", "password1"), 5*time.Minute)

	// Another account is untouched, and the budget refills with time.
	_, err = f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: "bob@example.com", Password: "password1"})
	require.NoError(t, err)
	require.NoError(t, guess(30, "bob@example.com", "password1"))
	f.clock.Add(5 * time.Minute)
	require.NoError(t, guess(31, "ann@example.com", "password1"))
	requireRateLimited(t, guess(32, "ann@example.com", "password1"), 5*time.Minute)
}

func TestLoginLimitPerIP(t *testing.T) {
	t.Parallel()
	f := limited(t, 4) // one attempt back every 225 s
	for _, email := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		_, err := f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: email, Password: "password1"})
		require.NoError(t, err)
	}
	// The registrations spent three of 192.0.2.1's four attempts; a spray over
	// accounts, known or not, gets one more.
	_, err := f.svc.Login(from("192.0.2.1"), auth.Credentials{Email: "a@example.com", Password: "wrong-password"})
	testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
	_, err = f.svc.Login(from("192.0.2.1"), auth.Credentials{Email: "b@example.com", Password: "password1"})
	known := requireRateLimited(t, err, 225*time.Second)
	_, err = f.svc.Login(from("192.0.2.1"), auth.Credentials{Email: "nobody@example.com", Password: "password1"})
	unknown := requireRateLimited(t, err, 225*time.Second)
	require.Equal(t, known, unknown)

	users := f.count(t, "users")
	_, err = f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: "d@example.com", Password: "password1"})
	requireRateLimited(t, err, 225*time.Second)
	require.Equal(t, users, f.count(t, "users"), "a refused registration stores nothing")

	// A refused address did not spend the accounts' budgets: b still has all three.
	for range 3 {
		_, err = f.svc.Login(from("203.0.113.9"), auth.Credentials{Email: "b@example.com", Password: "password1"})
		require.NoError(t, err)
	}
	// An IPv6 client's budget is its /64's.
	for i := range 4 {
		_, err = f.svc.Login(from(netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 15: byte(i)}).String()),
			auth.Credentials{Email: "c@example.com", Password: "password1"})
		if i < 3 {
			require.NoError(t, err)
		}
	}
	// The fourth spent the /64's last attempt, then met c's spent account budget.
	requireRateLimited(t, err, 5*time.Minute)
	_, err = f.svc.Login(from("2001:db8::ffff"), auth.Credentials{Email: "a@example.com", Password: "password1"})
	requireRateLimited(t, err, 225*time.Second)
	_, err = f.svc.Login(from("2001:db8:0:1::1"), auth.Credentials{Email: "a@example.com", Password: "password1"})
	require.NoError(t, err, "the next /64 is another client")

	f.clock.Add(225 * time.Second)
	_, err = f.svc.Login(from("192.0.2.1"), auth.Credentials{Email: "a@example.com", Password: "password1"})
	require.NoError(t, err)
}

func TestLoginLimitsSkipBadInputAndUnknownAddresses(t *testing.T) {
	t.Parallel()
	f := limited(t, 1)
	// Malformed input is refused before any budget is charged.
	for range 3 {
		_, err := f.svc.Login(from("192.0.2.1"), auth.Credentials{Email: "not-an-email", Password: "x"})
		testkit.RequireCode(t, err, models.CodeBadUserInput, "email")
	}
	_, err := f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	require.NoError(t, err, "the address still has its one attempt")

	// Without an address in the context (not through the server) only the account counts.
	for range 3 {
		_, err = f.svc.Login(context.Background(), auth.Credentials{Email: "ann@example.com", Password: "password1"})
		require.NoError(t, err)
	}
	_, err = f.svc.Login(context.Background(), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	requireRateLimited(t, err, 5*time.Minute)
}

// failingLimiter cannot decide anything, like a Redis limiter with Redis down.
type failingLimiter struct{}

func (failingLimiter) Allow(context.Context, string, ratelimit.Limit) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("redis: connection refused")
}

func (failingLimiter) AllowN(context.Context, string, ratelimit.Limit, int) (ratelimit.Decision, error) {
	return ratelimit.Decision{}, errors.New("redis: connection refused")
}

func TestLoginLimitsFailOpen(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, testkit.NewDB(t, testkit.SQLite), func(c *auth.Config) {
		c.Attempts = failingLimiter{}
		c.LoginLimitPerAccount = ratelimit.PerMinute(1)
		c.LoginLimitPerIP = ratelimit.PerMinute(1)
	})
	_, err := f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	require.NoError(t, err)
	for range 3 {
		_, err = f.svc.Login(from("192.0.2.1"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
		require.NoError(t, err)
	}
}

func TestLoginLimitMustBeValid(t *testing.T) {
	t.Parallel()
	_, err := auth.NewService(testkit.NewDB(t, testkit.SQLite), auth.Config{
		Tokens:          auth.TokenConfig{Secret: secret, Issuer: "inkgraph", Audience: "inkgraph-api", TTL: time.Minute},
		BcryptCost:      4,
		LoginLimitPerIP: ratelimit.Limit{Rate: 5},
	}, &events{}, nil, time.Now)
	require.ErrorContains(t, err, "sign-in limit per IP")
}
