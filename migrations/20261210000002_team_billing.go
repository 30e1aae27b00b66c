package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/migrate"
)

// teamBilling lets a team pay for itself: its own Stripe customer, the tier and seats
// its subscription grants (team_billing_accounts, with the user billing writes its
// seat changes' audit entries for: the owner who last opened checkout or the
// portal), and subscriptions that serve a team instead of a user (subscriptions.team_id;
// exactly one of user_id and team_id is set). SQLite cannot drop a NOT NULL, so there
// the subscriptions table is rebuilt with the same columns in the same order.
func teamBilling(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		stmts := []string{
			`CREATE TABLE team_billing_accounts (
				team_id TEXT PRIMARY KEY REFERENCES teams (id) ON DELETE CASCADE,
				customer_id TEXT UNIQUE,
				contact_user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
				granted_tier TEXT NOT NULL DEFAULT 'free' CHECK (granted_tier IN ('free', 'pro', 'power', 'team')),
				granted_seats INTEGER NOT NULL DEFAULT 1,
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
		}
		if db.Dialect().Name() == dialect.PG {
			stmts = append(stmts,
				`ALTER TABLE subscriptions ALTER COLUMN user_id DROP NOT NULL`,
				`ALTER TABLE subscriptions ADD COLUMN team_id TEXT REFERENCES teams (id) ON DELETE CASCADE`,
				`ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_holder_check CHECK ((user_id IS NULL) <> (team_id IS NULL))`,
			)
		} else {
			stmts = append(stmts, sqliteSubscriptions("user_id TEXT REFERENCES users (id) ON DELETE CASCADE",
				`team_id TEXT REFERENCES teams (id) ON DELETE CASCADE,
				CHECK ((user_id IS NULL) <> (team_id IS NULL))`)...)
		}
		stmts = append(stmts, `CREATE INDEX subscriptions_team_id_idx ON subscriptions (team_id)`)
		return execAll(ctx, db, stmts...)
	}, func(ctx context.Context, db *bun.DB) error {
		stmts := []string{`DELETE FROM subscriptions WHERE team_id IS NOT NULL`, `DROP INDEX subscriptions_team_id_idx`}
		if db.Dialect().Name() == dialect.PG {
			stmts = append(stmts,
				`ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_holder_check`,
				`ALTER TABLE subscriptions DROP COLUMN team_id`,
				`ALTER TABLE subscriptions ALTER COLUMN user_id SET NOT NULL`,
			)
		} else {
			stmts = append(stmts, sqliteSubscriptions("user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE", "")...)
		}
		return execAll(ctx, db, append(stmts, `DROP TABLE team_billing_accounts`)...)
	})
}

// sqliteSubscriptions rebuilds SQLite's subscriptions table with userID as the
// user_id column and extra columns (and constraints) after the others, copying the
// columns both have. Nothing references subscriptions, so dropping the old table
// loses nothing.
func sqliteSubscriptions(userID, extra string) []string {
	cols := "id, user_id, customer_id, price_id, plan_tier, status, seats, current_period_end, cancel_at_period_end, " +
		"past_due_since, grace_until, started_at, last_event_at, updated_at"
	if extra != "" {
		extra = ",\n" + extra
	}
	return []string{
		`CREATE TABLE subscriptions_rebuilt (
			id TEXT PRIMARY KEY,
			` + userID + `,
			customer_id TEXT NOT NULL,
			price_id TEXT NOT NULL,
			plan_tier TEXT NOT NULL CHECK (plan_tier IN ('free', 'pro', 'power', 'team')),
			status TEXT NOT NULL CHECK (status IN ('NONE', 'INCOMPLETE', 'INCOMPLETE_EXPIRED', 'TRIALING',
				'ACTIVE', 'PAST_DUE', 'CANCELED', 'UNPAID', 'PAUSED')),
			seats INTEGER NOT NULL,
			current_period_end {{time}},
			cancel_at_period_end BOOLEAN NOT NULL,
			past_due_since {{time}},
			grace_until {{time}},
			started_at {{time}},
			last_event_at {{time}},
			updated_at {{time}} NOT NULL` + extra + `
		)`,
		`INSERT INTO subscriptions_rebuilt (` + cols + `) SELECT ` + cols + ` FROM subscriptions`,
		`DROP TABLE subscriptions`,
		`ALTER TABLE subscriptions_rebuilt RENAME TO subscriptions`,
		`CREATE INDEX subscriptions_user_id_idx ON subscriptions (user_id)`,
		`CREATE INDEX subscriptions_grace_idx ON subscriptions (grace_until) WHERE status = 'PAST_DUE'`,
	}
}
