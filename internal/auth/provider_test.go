package auth_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/oidcop"
	"github.com/inkgraph/inkgraph/models"
)

// fetches counts the verifier's requests to the providers, by host and path: what the
// providers served, since every fetch goes through it.
type fetches struct {
	mu    sync.Mutex
	count map[string]int
}

func (f *fetches) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	if f.count == nil {
		f.count = map[string]int{}
	}
	f.count[req.URL.Host+req.URL.Path]++
	f.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// of returns how often op's path (e.g. "keys") was fetched.
func (f *fetches) of(op *oidcop.Server, path string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count[op.Addr[len("127.0.0.1:"):]+"/"+path] + f.count["localhost:"+op.Addr[len("127.0.0.1:"):]+"/"+path]
}

// providerFixture is the accounts service with the OPs as its identity providers
// (each with the audience oidcop.ClientWeb), on the real clock's present: the OP
// signs with the real time.
type providerFixture struct {
	*fixture
	audit   *auditor
	fetches *fetches
}

func newProviderFixture(t *testing.T, db *bun.DB, tune func(*auth.Config), ops ...*oidcop.Server) *providerFixture {
	t.Helper()
	pf := &providerFixture{audit: &auditor{}, fetches: &fetches{}}
	providers := make([]oidc.Provider, len(ops))
	for i, op := range ops {
		providers[i] = oidc.Provider{Issuer: op.Issuer, Audience: oidcop.ClientWeb}
	}
	var clock *testkit.Clock // the service's, set below
	v, err := oidc.New(oidc.Config{
		Providers: providers, Algorithms: []string{"RS256", "ES256", "EdDSA"},
		Client: &http.Client{Transport: pf.fetches, Timeout: 10 * time.Second},
		Now:    func() time.Time { return clock.Now() },
	})
	require.NoError(t, err)
	pf.fixture = newFixtureWith(t, db, func(c *auth.Config) {
		c.Providers, c.Audit = v, pf.audit
		if tune != nil {
			tune(c)
		}
	})
	clock = pf.clock
	clock.Set(time.Now())
	return pf
}

// signIn signs in with token and returns the payload and the session's caller.
func (pf *providerFixture) signIn(t *testing.T, token string) (*models.AuthPayload, models.Caller) {
	t.Helper()
	p, err := pf.svc.SignInWithProvider(context.Background(), token, "test-agent")
	require.NoError(t, err)
	caller, err := pf.svc.Tokens().Verify(p.AccessToken)
	require.NoError(t, err)
	return p, caller
}

// stored counts users, identities and sessions.
func (pf *providerFixture) stored(t *testing.T) [3]int {
	t.Helper()
	return [3]int{pf.count(t, "users"), pf.count(t, "user_identities"), pf.count(t, "sessions")}
}

// live counts userID's unrevoked sessions and API keys.
func (pf *providerFixture) live(t *testing.T, userID string) (sessions, keys int) {
	t.Helper()
	ctx := context.Background()
	n, err := pf.db.NewSelect().Table("sessions").Where("user_id = ? AND revoked_at IS NULL", userID).Count(ctx)
	require.NoError(t, err)
	k, err := pf.db.NewSelect().Table("api_keys").Where("user_id = ? AND revoked_at IS NULL", userID).Count(ctx)
	require.NoError(t, err)
	return int(n), int(k)
}

var (
	alice = oidcop.User{ID: "sub-alice", Username: "alice", Password: "pw-alice", Email: "alice@example.com", EmailVerified: true}
	// bob's email is not verified by the provider.
	bob = oidcop.User{ID: "sub-bob", Username: "bob", Password: "pw-bob", Email: "bob@example.com"}
	// carol has no email at the provider.
	carol = oidcop.User{ID: "sub-carol", Username: "carol", Password: "pw-carol", EmailVerified: true}
	// dave is on the second provider, with alice's subject: another identity.
	dave = oidcop.User{ID: "sub-alice", Username: "dave", Password: "pw-dave", Email: "dave@example.com", EmailVerified: true}
	// erin is on the provider no server trusts.
	erin = oidcop.User{ID: "sub-erin", Username: "erin", Password: "pw-erin", Email: "erin@example.com", EmailVerified: true}
)

// TestSignInWithProvider runs against real OpenID providers (zitadel's example OP):
// first sight creates an account signed in by OIDC, the next sign-in finds it, two
// providers map the same subject to two accounts, and every refusal (another
// audience, an issuer not configured, an expired token, a taken email, a token
// without a usable email) says why and creates nothing.
func TestSignInWithProvider(t *testing.T) {
	t.Parallel()
	opA := oidcop.Start(t, alice, bob, carol)
	opB := oidcop.Start(t, dave)
	untrusted := oidcop.Start(t, erin)
	aliceToken := opA.IDToken(oidcop.ClientWeb, alice)
	ctx := context.Background()

	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		f := newProviderFixture(t, db, nil, opA, opB)
		require.Equal(t, []oidc.Provider{{Issuer: opA.Issuer, Audience: "web"}, {Issuer: opB.Issuer, Audience: "web"}}, f.svc.IdentityProviders())

		first, caller := f.signIn(t, aliceToken)
		require.Equal(t, "alice@example.com", first.User.Email)
		require.Equal(t, models.TierFree, first.User.Tier)
		sessions, err := f.svc.Sessions(ctx, caller)
		require.NoError(t, err)
		require.Len(t, sessions, 1)
		require.Equal(t, models.SignInOIDC, sessions[0].Method)
		require.Equal(t, "test-agent", sessions[0].UserAgent)
		require.Equal(t, []models.AuditEntry{{UserID: first.User.ID, Kind: models.AuditLogin, Detail: models.AuditDetail{
			"via": "identity provider", "issuer": opA.Issuer, "account": "created", "userAgent": "test-agent",
		}}}, f.audit.of(first.User.ID))

		t.Run("the account has no password", func(t *testing.T) {
			for _, pw := range []string{"password1", "pw-alice", " "} {
				_, err := f.svc.Login(ctx, auth.Credentials{Email: "alice@example.com", Password: pw})
				testkit.RequireCode(t, err, models.CodeUnauthenticated)
			}
			_, err := f.svc.Register(ctx, auth.Credentials{Email: "alice@example.com", Password: "password1"})
			testkit.RequireCode(t, err, models.CodeUnauthenticated)
		})

		t.Run("the next sign-in finds the same account", func(t *testing.T) {
			before := f.stored(t)
			again, caller := f.signIn(t, opA.IDToken(oidcop.ClientWeb, alice))
			require.Equal(t, first.User.ID, again.User.ID)
			require.Equal(t, [3]int{before[0], before[1], before[2] + 1}, f.stored(t), "a session more, nothing else")
			sessions, err := f.svc.Sessions(ctx, caller)
			require.NoError(t, err)
			require.Len(t, sessions, 2)
			for _, s := range sessions {
				require.Equal(t, models.SignInOIDC, s.Method)
			}
		})

		t.Run("two providers, one subject: two accounts", func(t *testing.T) {
			other, _ := f.signIn(t, opB.IDToken(oidcop.ClientWeb, dave))
			require.NotEqual(t, first.User.ID, other.User.ID)
			require.Equal(t, "dave@example.com", other.User.Email)
			again, _ := f.signIn(t, aliceToken)
			require.Equal(t, first.User.ID, again.User.ID)
		})

		refusals := []struct {
			name, token, code, says string
		}{
			{"a token for another audience", opA.IDToken(oidcop.ClientAPI, alice), models.CodeUnauthenticated, `not issued to this application (audience "web")`},
			{"an issuer not configured", untrusted.IDToken(oidcop.ClientWeb, erin), models.CodeUnauthenticated, "is not a configured identity provider"},
			{"a token that is not one", "not-a-token", models.CodeUnauthenticated, "not a signed JWT"},
			{"an email the provider has not verified", opA.IDToken(oidcop.ClientWeb, bob), models.CodeBadUserInput, "has not verified this email"},
			{"no email", opA.IDToken(oidcop.ClientWeb, carol), models.CodeBadUserInput, "carries no email address"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				before := f.stored(t)
				_, err := f.svc.SignInWithProvider(ctx, tc.token, "")
				e := testkit.RequireCode(t, err, tc.code, "idToken")
				require.Contains(t, e.Message, tc.says)
				require.Equal(t, before, f.stored(t), "nothing is stored")
			})
		}
		t.Run("an empty token", func(t *testing.T) {
			_, err := f.svc.SignInWithProvider(ctx, " ", "")
			testkit.RequireCode(t, err, models.CodeBadUserInput, "idToken")
		})

		t.Run("an expired token", func(t *testing.T) {
			before := f.stored(t)
			f.clock.Add(time.Hour + 2*time.Minute) // the example OP's ID tokens last an hour
			_, err := f.svc.SignInWithProvider(ctx, aliceToken, "")
			e := testkit.RequireCode(t, err, models.CodeUnauthenticated, "idToken")
			require.Contains(t, e.Message, "expired at")
			require.Equal(t, before, f.stored(t))
		})
	})
}

// TestSignInWithProviderEmailTaken: a provider identity whose email has an account is
// linked to it only when linking is on, otherwise CONFLICT and nothing is created. An
// email the provider has not verified is refused alike whether or not it has an
// account (no oracle of which emails do). Linking takes the account over: the
// password it was registered with, its sessions and its API keys stop working (the
// registrant may not have owned the address).
func TestSignInWithProviderEmailTaken(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, alice, bob)
	ctx := context.Background()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		// Off first: it creates nothing, so the database is as fresh for the second.
		for _, link := range []bool{false, true} {
			name := map[bool]string{false: "linking off", true: "linking on"}[link]
			t.Run(name, func(t *testing.T) {
				f := newProviderFixture(t, db, func(c *auth.Config) { c.LinkByEmail = link }, op)
				// bob's email is unverified at the provider: refused before and after it
				// has an account, with the same answer.
				_, unknown := f.svc.SignInWithProvider(ctx, op.IDToken(oidcop.ClientWeb, bob), "")
				unknownErr := testkit.RequireCode(t, unknown, models.CodeBadUserInput, "idToken")
				require.Contains(t, unknownErr.Message, "has not verified this email")

				owner, err := f.svc.Register(ctx, auth.Credentials{Email: "Alice@Example.com", Password: "password1"})
				require.NoError(t, err)
				_, err = f.svc.Register(ctx, auth.Credentials{Email: "bob@example.com", Password: "password1"})
				require.NoError(t, err)
				before := f.stored(t)

				_, known := f.svc.SignInWithProvider(ctx, op.IDToken(oidcop.ClientWeb, bob), "")
				knownErr := testkit.RequireCode(t, known, models.CodeBadUserInput, "idToken")
				require.Equal(t, unknownErr.Message, knownErr.Message, "no oracle of the account")
				require.Equal(t, before, f.stored(t))

				// What the registrant holds before the provider's sign-in.
				oldSession, err := f.svc.Tokens().Verify(owner.AccessToken)
				require.NoError(t, err)
				key, err := f.svc.CreateAPIKey(ctx, oldSession, auth.APIKeyInput{Name: "k", Scopes: []models.Scope{models.ScopeRead}})
				require.NoError(t, err)
				before = f.stored(t)
				liveSessions, liveKeys := f.live(t, owner.User.ID)
				require.Positive(t, liveSessions)
				require.Positive(t, liveKeys)

				p, err := f.svc.SignInWithProvider(ctx, op.IDToken(oidcop.ClientWeb, alice), "")
				if !link {
					e := testkit.RequireCode(t, err, models.CodeConflict, "idToken")
					require.Contains(t, e.Message, "already exists")
					require.Equal(t, before, f.stored(t), "nothing is created")
					_, err = f.svc.Login(ctx, auth.Credentials{Email: "alice@example.com", Password: "password1"})
					require.NoError(t, err, "the password still signs in")
					return
				}
				require.NoError(t, err)
				require.Equal(t, owner.User.ID, p.User.ID, "linked to the account with the email")
				require.Equal(t, [3]int{before[0], before[1] + 1, before[2] + 1}, f.stored(t))
				entries := f.audit.of(owner.User.ID)
				require.Equal(t, "linked by email", entries[len(entries)-1].Detail["account"])
				require.Equal(t, models.AuditDetail{
					"via": "identity provider", "issuer": op.Issuer,
					"event":    "linked identity provider; password, sessions and API keys ended",
					"sessions": fmt.Sprint(liveSessions), "apiKeys": fmt.Sprint(liveKeys),
				}, entries[len(entries)-2].Detail)
				liveSessions, liveKeys = f.live(t, owner.User.ID)
				require.Equal(t, [2]int{1, 0}, [2]int{liveSessions, liveKeys}, "only the provider's session is live")

				// The password no longer signs in; the old session and the API key are refused.
				_, err = f.svc.Login(ctx, auth.Credentials{Email: "alice@example.com", Password: "password1"})
				testkit.RequireCode(t, err, models.CodeUnauthenticated)
				testkit.RequireCode(t, f.svc.Revocations().Check(oldSession), models.CodeUnauthenticated, "")
				_, err = f.svc.Refresh(ctx, owner.RefreshToken, "")
				testkit.RequireCode(t, err, models.CodeUnauthenticated)
				_, err = f.svc.AuthenticateAPIKey(ctx, key.Key)
				testkit.RequireCode(t, err, models.CodeUnauthenticated)

				// The provider's session works, and the identity now finds the account
				// without ending it again.
				newSession, err := f.svc.Tokens().Verify(p.AccessToken)
				require.NoError(t, err)
				require.NoError(t, f.svc.Revocations().Check(newSession))
				again, err := f.svc.SignInWithProvider(ctx, op.IDToken(oidcop.ClientWeb, alice), "")
				require.NoError(t, err)
				require.Equal(t, owner.User.ID, again.User.ID)
				require.NoError(t, f.svc.Revocations().Check(newSession))
			})
		}
	})
}

// TestSignInWithProviderFollowsKeyRotation: the OP restarted on its port signs with
// a new key under a new key ID; the first token with it costs one fetch of the key
// set (once the cooldown since the last fetch has passed) and signs in; a token of
// the retired key is then refused without another fetch.
func TestSignInWithProviderFollowsKeyRotation(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, alice)
	f := newProviderFixture(t, testkit.NewDB(t, testkit.SQLite), nil, op)
	oldToken := op.IDToken(oidcop.ClientWeb, alice)
	first, _ := f.signIn(t, oldToken)
	require.Equal(t, 1, f.fetches.of(op, ".well-known/openid-configuration"))
	require.Equal(t, 1, f.fetches.of(op, "keys"))

	op.Restart()
	newToken := op.IDToken(oidcop.ClientWeb, alice)
	// Within the cooldown the new key ID is not looked for: the answer says so.
	_, err := f.svc.SignInWithProvider(context.Background(), newToken, "")
	e := testkit.RequireCode(t, err, models.CodeUnauthenticated, "idToken")
	require.Contains(t, e.Message, "is not among the issuer's keys")
	require.Equal(t, 1, f.fetches.of(op, "keys"))

	f.clock.Add(oidc.DefaultRefetchCooldown)
	again, _ := f.signIn(t, newToken)
	require.Equal(t, first.User.ID, again.User.ID)
	require.Equal(t, 2, f.fetches.of(op, "keys"), "one refetch for the new key")
	require.Equal(t, 1, f.fetches.of(op, ".well-known/openid-configuration"), "discovery is not read again")

	_, err = f.svc.SignInWithProvider(context.Background(), oldToken, "")
	e = testkit.RequireCode(t, err, models.CodeUnauthenticated, "idToken")
	require.Contains(t, e.Message, "is not among the issuer's keys")
	require.Equal(t, 2, f.fetches.of(op, "keys"), "the retired key costs no fetch within the cooldown")
}

// TestSignInWithProviderLimits: attempts spend the client address's sign-in budget,
// refused ones included; with no provider configured every token is refused.
func TestSignInWithProviderLimits(t *testing.T) {
	t.Parallel()
	op := oidcop.Start(t, alice)
	db := testkit.NewDB(t, testkit.SQLite)
	f := newProviderFixture(t, db, func(c *auth.Config) {
		c.LoginLimitPerIP = ratelimit.Limit{Rate: 2, Period: time.Hour, Burst: 2}
	}, op)
	ctx := from("203.0.113.7")
	token := op.IDToken(oidcop.ClientWeb, alice)
	_, err := f.svc.SignInWithProvider(ctx, "forged", "")
	testkit.RequireCode(t, err, models.CodeUnauthenticated, "idToken")
	_, err = f.svc.SignInWithProvider(ctx, token, "")
	require.NoError(t, err)
	_, err = f.svc.SignInWithProvider(ctx, token, "")
	testkit.RequireCode(t, err, models.CodeRateLimited)

	none := newProviderFixture(t, db, nil)
	_, err = none.svc.SignInWithProvider(ctx, token, "")
	e := testkit.RequireCode(t, err, models.CodeUnauthenticated, "idToken")
	require.Contains(t, e.Message, "no identity provider is configured")
	require.Empty(t, none.svc.IdentityProviders())
}
