package auth_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// TestSessions: a user sees their live sessions (how and where each signed in, the
// address masked to its network, which one is asking) and ends one or all others: an
// ended session's refresh token and access token stop working, its end is published
// to every instance and to the account's event stream, and nobody else's session can
// be ended.
func TestSessions(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		audit := &auditor{}
		f := newFixtureWith(t, db, func(c *auth.Config) { c.Audit = audit })
		ctx := context.Background()
		_, err := f.svc.Register(ctx, auth.Credentials{Email: "ann@example.com", Password: "password1"})
		require.NoError(t, err)
		signIn := func(addr, agent string) (*models.AuthPayload, models.Caller) {
			t.Helper()
			c := clientip.With(ctx, netip.MustParseAddr(addr))
			p, err := f.svc.Login(c, auth.Credentials{Email: "ann@example.com", Password: "password1", UserAgent: agent})
			require.NoError(t, err)
			caller, err := f.svc.Tokens().Verify(p.AccessToken)
			require.NoError(t, err)
			return p, caller
		}
		laptop, laptopCaller := signIn("192.0.2.77", "Firefox")
		f.clock.Add(time.Minute)
		phone, phoneCaller := signIn("2001:db8:1234:5678::9", "Safari")
		f.clock.Add(time.Minute)
		tablet, tabletCaller := signIn("198.51.100.4", "Chrome")

		list, err := f.svc.Sessions(ctx, phoneCaller)
		require.NoError(t, err)
		require.Len(t, list, 4, "the registration's session and three sign-ins")
		require.Equal(t, tabletCaller.SessionID, list[0].ID, "most recently used first")
		byID := map[string]*models.Session{}
		for _, s := range list {
			byID[s.ID] = s
			require.Equal(t, s.ID == phoneCaller.SessionID, s.Current, "only the asking session is current")
			require.Equal(t, models.SignInPassword, s.Method)
		}
		require.Equal(t, "192.0.2.0/24", byID[laptopCaller.SessionID].ClientNetwork)
		require.Equal(t, "2001:db8:1234::/48", byID[phoneCaller.SessionID].ClientNetwork)
		require.Equal(t, "Safari", byID[phoneCaller.SessionID].UserAgent)

		bob := f.signedIn(t, "bob@example.com")
		_, err = f.svc.RevokeSession(ctx, bob, laptopCaller.SessionID)
		testkit.RequireCode(t, err, models.CodeNotFound, "id")
		require.NoError(t, f.svc.Revocations().Check(laptopCaller), "another user's attempt changes nothing")

		key, err := f.svc.CreateAPIKey(ctx, phoneCaller, auth.APIKeyInput{Name: "k", Scopes: []models.Scope{models.ScopeRead}})
		require.NoError(t, err)
		keyCaller, err := f.svc.AuthenticateAPIKey(ctx, key.Key)
		require.NoError(t, err)
		_, err = f.svc.Sessions(ctx, keyCaller)
		testkit.RequireCode(t, err, models.CodeForbidden, "scopes")
		_, err = f.svc.RevokeOtherSessions(ctx, keyCaller)
		testkit.RequireCode(t, err, models.CodeForbidden, "scopes")

		ended, err := f.svc.RevokeSession(ctx, phoneCaller, laptopCaller.SessionID)
		require.NoError(t, err)
		require.NotNil(t, ended.RevokedAt)
		require.False(t, ended.Current)
		testkit.RequireCode(t, f.svc.Revocations().Check(laptopCaller), models.CodeUnauthenticated, "")
		_, err = f.svc.Refresh(ctx, laptop.RefreshToken, "Firefox")
		testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
		again, err := f.svc.RevokeSession(ctx, phoneCaller, laptopCaller.SessionID)
		require.NoError(t, err, "ending an ended session is no error")
		require.True(t, again.RevokedAt.Equal(*ended.RevokedAt))

		n, err := f.svc.RevokeOtherSessions(ctx, phoneCaller)
		require.NoError(t, err)
		require.Equal(t, 2, n, "the registration's session and the tablet")
		testkit.RequireCode(t, f.svc.Revocations().Check(tabletCaller), models.CodeUnauthenticated, "")
		_, err = f.svc.Refresh(ctx, tablet.RefreshToken, "Chrome")
		testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
		require.NoError(t, f.svc.Revocations().Check(phoneCaller), "the asking session stays")
		_, err = f.svc.Refresh(ctx, phone.RefreshToken, "Safari")
		require.NoError(t, err)
		require.NoError(t, f.svc.Revocations().Check(keyCaller), "API keys are not sessions")

		list, err = f.svc.Sessions(ctx, phoneCaller)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.True(t, list[0].Current)
		n, err = f.svc.RevokeOtherSessions(ctx, phoneCaller)
		require.NoError(t, err)
		require.Zero(t, n)

		var revokedEvents int
		for _, ev := range f.events.all() {
			if ev.Type == models.AccountEventSessionRevoked && ev.Reason != nil && *ev.Reason == models.RevokedByUser {
				revokedEvents++
			}
		}
		require.Equal(t, 3, revokedEvents, "each ended session is announced once")
		var audited int
		for _, e := range audit.of(phoneCaller.UserID) {
			if e.Kind == models.AuditSessionRevoked {
				audited++
			}
		}
		require.Equal(t, 2, audited, "one entry for the one, one for the others")

		f.clock.Add(25 * time.Hour)
		list, err = f.svc.Sessions(ctx, phoneCaller)
		require.NoError(t, err)
		require.Empty(t, list, "a session unused for a refresh token's life is not live")
	})
}
