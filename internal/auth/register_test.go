package auth_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/ratelimit"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// auditor records what the service writes in users' audit logs.
type auditor struct {
	mu      sync.Mutex
	entries []models.AuditEntry
}

func (a *auditor) Record(_ context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.entries = append(a.entries, models.AuditEntry{UserID: userID, Kind: kind, Detail: detail})
	return nil
}

func (a *auditor) of(userID string) []models.AuditEntry {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []models.AuditEntry
	for _, e := range a.entries {
		if e.UserID == userID {
			out = append(out, e)
		}
	}
	return out
}

// stored counts the rows an account's sign-up and sign-in write.
func (f *fixture) stored(t *testing.T) [3]int {
	t.Helper()
	return [3]int{f.count(t, "users"), f.count(t, "sessions"), f.count(t, "refresh_tokens")}
}

// TestRegisterDoesNotRevealAccounts: registering a taken email is answered as signing
// in is (OWASP's authentication cheat sheet): another password gets the very answer a
// wrong password or an unknown email gets at login, nothing is stored, and the owner's
// audit log shows the attempt; the owner's own password signs the owner in.
func TestRegisterDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		audit := &auditor{}
		f := newFixtureWith(t, db, func(c *auth.Config) { c.Audit = audit })
		ctx := context.Background()
		owner, err := f.svc.Register(ctx, auth.Credentials{Email: "owner@example.com", Password: "password1"})
		require.NoError(t, err)
		require.Empty(t, audit.of(owner.User.ID), "a new account's sign-up is no attempt on anyone's account")

		t.Run("another password", func(t *testing.T) {
			before := f.stored(t)
			_, taken := f.svc.Register(ctx, auth.Credentials{Email: " Owner@Example.com", Password: "password2"})
			_, wrongPassword := f.svc.Login(ctx, auth.Credentials{Email: "owner@example.com", Password: "password2"})
			_, unknownEmail := f.svc.Login(ctx, auth.Credentials{Email: "nobody@example.com", Password: "password2"})
			got := testkit.RequireCode(t, taken, models.CodeUnauthenticated, "")
			for _, other := range []error{wrongPassword, unknownEmail} {
				var want *models.Error
				require.True(t, errors.As(other, &want))
				require.Equal(t, [3]string{want.Code, want.Message, want.Field}, [3]string{got.Code, got.Message, got.Field},
					"a taken email is answered as login answers any bad credentials")
			}
			require.NotContains(t, got.Message, "exist")
			require.Equal(t, before, f.stored(t), "nothing is stored")

			entries := audit.of(owner.User.ID)
			require.NotEmpty(t, entries)
			require.Equal(t, models.AuditLoginFailed, entries[0].Kind)
			require.Equal(t, "registration attempted with this email", entries[0].Detail["reason"], "the owner learns of the attempt")
		})

		t.Run("the owner's password signs in", func(t *testing.T) {
			users := f.count(t, "users")
			p, err := f.svc.Register(ctx, auth.Credentials{Email: "owner@example.com", Password: "password1", UserAgent: "ua"})
			require.NoError(t, err)
			require.Equal(t, owner.User.ID, p.User.ID, "the existing account, not a new one")
			require.Equal(t, users, f.count(t, "users"))
			caller, err := f.svc.Tokens().Verify(p.AccessToken)
			require.NoError(t, err)
			require.Equal(t, owner.User.ID, caller.UserID)
			entries := audit.of(owner.User.ID)
			last := entries[len(entries)-1]
			require.Equal(t, models.AuditLogin, last.Kind)
			require.Equal(t, "register", last.Detail["via"])
		})
	})
}

// TestRegisterSpendsTheAccountBudget: a registration of a taken email checks its
// password, so it spends the budget Login does; register is no way around it.
func TestRegisterSpendsTheAccountBudget(t *testing.T) {
	t.Parallel()
	f := newFixtureWith(t, testkit.NewDB(t, testkit.SQLite), func(c *auth.Config) {
		c.LoginLimitPerAccount = ratelimit.Limit{Rate: 3, Period: 15 * time.Minute, Burst: 3}
	})
	_, err := f.svc.Register(from("192.0.2.1"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	require.NoError(t, err)
	for i := range 3 {
		_, err := f.svc.Register(from(fmt.Sprintf("198.51.100.%d", i)), auth.Credentials{Email: "ann@example.com", Password: "guess-password"})
		testkit.RequireCode(t, err, models.CodeUnauthenticated, "")
	}
	_, err = f.svc.Register(from("198.51.100.9"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	requireRateLimited(t, err, 5*time.Minute)
	_, err = f.svc.Login(from("198.51.100.10"), auth.Credentials{Email: "ann@example.com", Password: "password1"})
	requireRateLimited(t, err, 5*time.Minute)
}

// BenchmarkRegister reports what a registration costs for a free email and for a taken
// one (with another password): both are one bcrypt operation of the same cost, so the
// two figures are close, and the answer's timing does not tell them apart.
func BenchmarkRegister(b *testing.B) {
	f := newFixtureWith(b, testkit.NewDB(b, testkit.SQLite), func(c *auth.Config) { c.BcryptCost = 10 })
	ctx := context.Background()
	_, err := f.svc.Register(ctx, auth.Credentials{Email: "taken@example.com", Password: "password1"})
	require.NoError(b, err)
	b.Run("free", func(b *testing.B) {
		for i := 0; b.Loop(); i++ {
			_, err := f.svc.Register(ctx, auth.Credentials{Email: fmt.Sprintf("free%d@example.com", i), Password: "password1"})
			require.NoError(b, err)
		}
	})
	b.Run("taken", func(b *testing.B) {
		for b.Loop() {
			_, err := f.svc.Register(ctx, auth.Credentials{Email: "taken@example.com", Password: "password2"})
			require.Error(b, err)
		}
	})
}
