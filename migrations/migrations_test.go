package migrations_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/migrations"
)

func TestMigrationsUpDownUp(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testkit.OpenEmpty(t, d)
			m := testkit.NewMigrator(t, db)

			_, err := m.Pending(ctx)
			require.Error(t, err, "before init the bookkeeping table does not exist")

			applied, err := m.Up(ctx)
			require.NoError(t, err)
			require.NotEmpty(t, applied)
			pending, err := m.Pending(ctx)
			require.NoError(t, err)
			require.Zero(t, pending)
			requireTables(t, db, true)

			again, err := m.Up(ctx)
			require.NoError(t, err)
			require.Empty(t, again, "a second up applies nothing")

			rolled, err := m.Rollback(ctx, database.RollbackOptions{Steps: len(applied)})
			require.NoError(t, err)
			require.ElementsMatch(t, applied, rolled)
			requireTables(t, db, false)
			pending, err = m.Pending(ctx)
			require.NoError(t, err)
			require.Equal(t, len(applied), pending)

			reapplied, err := m.Up(ctx)
			require.NoError(t, err)
			require.Equal(t, applied, reapplied)
			requireTables(t, db, true)

			status, err := m.Status(ctx)
			require.NoError(t, err)
			for _, s := range status {
				require.True(t, s.Applied, s.Name)
			}
		})
	}
}

// TestDropsDeclared holds migrations.Drops to what each down migration really drops:
// the rollback's refusal to destroy data counts the rows of those tables only.
func TestDropsDeclared(t *testing.T) {
	t.Parallel()
	ms, err := migrations.New()
	require.NoError(t, err)
	drops := migrations.Drops()
	require.Len(t, drops, len(ms.Sorted()), "every migration declares what it drops")
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testkit.NewDB(t, d)
			m := database.NewMigrator(db, ms, database.WithDrops(drops))
			for range ms.Sorted() {
				before, err := database.Tables(ctx, db)
				require.NoError(t, err)
				rolled, err := m.Down(ctx)
				require.NoError(t, err)
				require.Len(t, rolled, 1)
				after, err := database.Tables(ctx, db)
				require.NoError(t, err)
				name, _, _ := strings.Cut(rolled[0], "_")
				require.ElementsMatch(t, drops[name], without(before, after), rolled[0])
			}
		})
	}
}

func without(all, some []string) []string {
	var out []string
	for _, s := range all {
		if !slices.Contains(some, s) {
			out = append(out, s)
		}
	}
	return out
}

func TestConcurrentMigrateUpIsSerialised(t *testing.T) {
	t.Parallel()
	// Two instances starting at once against one PostgreSQL: the advisory lock makes
	// one apply everything and the other find nothing left to do.
	url := testkit.PostgresSchemaURL(t)
	ctx := context.Background()
	results := make(chan []string, 2)
	errs := make(chan error, 2)
	for range 2 {
		db, err := database.Open(ctx, database.Config{URL: url})
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		m := testkit.NewMigrator(t, db)
		go func() {
			names, err := m.Up(ctx)
			errs <- err
			results <- names
		}()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	a, b := <-results, <-results
	require.Equal(t, 1, countNonEmpty(a, b), "exactly one instance applies the migrations: %v / %v", a, b)
}

// TestUpReturnsOnlyOnceTheSchemaIsWhole: while one instance is still applying a
// migration, another's Up (which first reads, without the lock, whether anything is
// pending) does not return until that migration has committed, on both dialects: a
// migration is marked applied after its up, not before.
func TestUpReturnsOnlyOnceTheSchemaIsWhole(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			url := testkit.DatabaseURL(t, d)
			entered, release := make(chan struct{}), make(chan struct{})
			set := func(slow bool) *migrate.Migrations {
				ms := migrate.NewMigrations()
				ms.Add(migrate.Migration{Name: "20260101000001", Comment: "first",
					Up: func(context.Context, *migrate.Migrator, *migrate.Migration) error { return nil }})
				ms.Add(migrate.Migration{Name: "20260101000002", Comment: "slow",
					Up: func(ctx context.Context, m *migrate.Migrator, _ *migrate.Migration) error {
						if slow {
							close(entered)
							<-release
						}
						_, err := m.DB().ExecContext(ctx, "CREATE TABLE up_race (x INT)")
						return err
					}})
				return ms
			}
			open := func() *bun.DB {
				db, err := database.Open(ctx, database.Config{URL: url})
				require.NoError(t, err)
				t.Cleanup(func() { _ = db.Close() })
				return db
			}
			first, second := open(), open()
			done := make(chan error, 1)
			go func() {
				_, err := database.NewMigrator(first, set(true)).Up(ctx)
				done <- err
			}()
			select {
			case <-entered:
			case err := <-done:
				t.Fatalf("the first instance's Up ended before its slow migration: %v", err)
			}
			time.AfterFunc(200*time.Millisecond, func() { close(release) })
			names, err := database.NewMigrator(second, set(false)).Up(ctx)
			require.NoError(t, err)
			require.Empty(t, names, "the first instance applies them")
			_, err = second.ExecContext(ctx, "SELECT x FROM up_race")
			require.NoError(t, err, "Up returned before the other instance's migration committed")
			require.NoError(t, <-done)
		})
	}
}

// TestUpReportsOnlyWhatItApplied: when a migration fails, Up names those before it,
// and the one that failed is still pending (it runs again next time), on both
// dialects.
func TestUpReportsOnlyWhatItApplied(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testkit.OpenEmpty(t, d)
			ms := migrate.NewMigrations()
			ms.Add(migrate.Migration{Name: "20260101000001", Comment: "fine",
				Up: func(context.Context, *migrate.Migrator, *migrate.Migration) error { return nil }})
			ms.Add(migrate.Migration{Name: "20260101000002", Comment: "broken",
				Up: func(context.Context, *migrate.Migrator, *migrate.Migration) error { return errors.New("broken") }})
			m := database.NewMigrator(db, ms)
			names, err := m.Up(ctx)
			require.ErrorContains(t, err, "broken")
			require.Equal(t, []string{"20260101000001_fine"}, names)
			pending, err := m.Pending(ctx)
			require.NoError(t, err)
			require.Equal(t, 1, pending, "the migration that failed is still pending")
		})
	}
}

func countNonEmpty(lists ...[]string) int {
	n := 0
	for _, l := range lists {
		if len(l) > 0 {
			n++
		}
	}
	return n
}

func requireTables(t *testing.T, db *bun.DB, exist bool) {
	t.Helper()
	for _, table := range []string{
		"users", "sessions", "refresh_tokens",
		"onboarding_progress", "onboarding_steps", "provider_keys", "website_analyses",
		"business_infos", "research_preferences", "onboarding_integrations", "personas",
		"billing_accounts", "subscriptions", "subscription_changes", "stripe_events", "audit_log",
		"backups", "llm_usage", "chat_settings", "conversations", "conversation_messages",
		"documents", "document_tags", "document_chunks", "ingestion_jobs", "knowledge_versions", "custom_playbooks", "knowledge_forgotten_blobs",
	} {
		_, err := db.NewSelect().Table(table).ColumnExpr("1").Limit(1).Exec(context.Background())
		if exist {
			require.NoError(t, err, table)
		} else {
			require.Error(t, err, table)
		}
	}
}

// TestRevokedSessionsIndexed: the revocation set's periodic read has an index, which
// the migration's down removes again.
func TestRevokedSessionsIndexed(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testkit.OpenEmpty(t, d)
			m := testkit.NewMigrator(t, db)
			_, err := m.Up(ctx)
			require.NoError(t, err)
			indexes := func() int {
				q := `SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'sessions_revoked_at_idx'`
				if d == testkit.Postgres {
					q = `SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'sessions_revoked_at_idx'`
				}
				var n int
				require.NoError(t, db.NewRaw(q).Scan(ctx, &n))
				return n
			}
			require.Equal(t, 1, indexes())
			_, err = m.Rollback(ctx, database.RollbackOptions{To: "20261204000001"})
			require.NoError(t, err)
			require.Zero(t, indexes())
		})
	}
}

// TestTeamSpacesForExistingTeams: upgrading gives every existing team its shared space
// (a users row of kind team with the team's ID and the tier its subscription grants),
// nobody signs in as; rolling back keeps them and what they hold.
func TestTeamSpacesForExistingTeams(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := testkit.OpenEmpty(t, d)
			m := testkit.NewMigrator(t, db)
			_, err := m.Up(ctx)
			require.NoError(t, err)
			_, err = m.Rollback(ctx, database.RollbackOptions{To: "20261210000002"})
			require.NoError(t, err)
			exec := func(q string, args ...any) {
				t.Helper()
				_, err := db.ExecContext(ctx, q, args...)
				require.NoError(t, err)
			}
			exec(`INSERT INTO users (id, email, password_hash, tier, created_at, updated_at) VALUES ('u1', 'a@example.com', 'h', 'free', ?, ?)`, "2026-12-01 10:00:00", "2026-12-01 10:00:00")
			for _, team := range []string{"t-paid", "t-free"} {
				exec(`INSERT INTO teams (id, name, created_by, created_at) VALUES (?, 'A team', 'u1', ?)`, team, "2026-12-01 10:00:00")
			}
			exec(`INSERT INTO team_billing_accounts (team_id, granted_tier, granted_seats, created_at, updated_at) VALUES ('t-paid', 'team', 5, ?, ?)`, "2026-12-01 10:00:00", "2026-12-01 10:00:00")

			_, err = m.Up(ctx)
			require.NoError(t, err)
			type row struct{ ID, Email, PasswordHash, Tier, Kind string }
			var rows []row
			require.NoError(t, db.NewRaw(`SELECT id, email, password_hash, tier, kind FROM users ORDER BY id`).Scan(ctx, &rows))
			require.Equal(t, []row{
				{"t-free", "team:t-free", "", "free", "team"},
				{"t-paid", "team:t-paid", "", "team", "team"},
				{"u1", "a@example.com", "h", "free", "person"},
			}, rows)

			// A rollback keeps the spaces and what is in them; up again makes them
			// spaces again, without a second row.
			exec(`INSERT INTO business_infos (user_id, id, business_name, description, industry, target_audience, business_goals, products, created_at, updated_at)
				VALUES ('t-paid', 'b1', 'Acme', 'A shop', '', '', '[]', '[]', ?, ?)`, "2026-12-01 10:00:00", "2026-12-01 10:00:00")
			_, err = m.Rollback(ctx, database.RollbackOptions{To: "20261210000002", Force: true}) // testkit's migrator counts every table
			require.NoError(t, err)
			var ids []string
			require.NoError(t, db.NewRaw(`SELECT id FROM users ORDER BY id`).Scan(ctx, &ids))
			require.Equal(t, []string{"t-free", "t-paid", "u1"}, ids)
			// Meanwhile, a version that knew no spaces deleted a team, not its space.
			exec(`DELETE FROM teams WHERE id = 't-free'`)
			_, err = m.Up(ctx)
			require.NoError(t, err)
			rows = nil
			require.NoError(t, db.NewRaw(`SELECT id, email, password_hash, tier, kind FROM users ORDER BY id`).Scan(ctx, &rows))
			require.Len(t, rows, 2, "the deleted team's space went")
			require.Equal(t, "t-paid", rows[0].ID)
			require.Equal(t, "team", rows[0].Kind)
			var n int
			require.NoError(t, db.NewRaw(`SELECT count(*) FROM business_infos WHERE user_id = 't-paid'`).Scan(ctx, &n))
			require.Equal(t, 1, n, "the team's data survived the round trip")
		})
	}
}
