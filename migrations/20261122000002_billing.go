package migrations

import (
	"context"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// billing adds what Stripe decides and what Inkgraph did about it: each user's Stripe
// customer and granted tier, subscriptions as folded from Stripe's events, the log of
// those events' changes (the fold's input), the processed event IDs (each event acts
// once) and the audit log of security- and money-relevant events.
func billing(m *migrate.Migrations) error {
	return m.Register(func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`CREATE TABLE billing_accounts (
				user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
				customer_id TEXT UNIQUE,
				granted_tier TEXT NOT NULL DEFAULT 'free' CHECK (granted_tier IN ('free', 'pro', 'power', 'team')),
				created_at {{time}} NOT NULL,
				updated_at {{time}} NOT NULL
			)`,
			`CREATE TABLE subscriptions (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
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
				updated_at {{time}} NOT NULL
			)`,
			`CREATE INDEX subscriptions_user_id_idx ON subscriptions (user_id)`,
			// The grace sweep looks for past-due subscriptions whose grace has ended.
			`CREATE INDEX subscriptions_grace_idx ON subscriptions (grace_until) WHERE status = 'PAST_DUE'`,
			// No foreign keys: a change may arrive before anything links its
			// subscription to a user, and it is kept until something does.
			`CREATE TABLE subscription_changes (
				id TEXT PRIMARY KEY,
				subscription_id TEXT NOT NULL,
				customer_id TEXT NOT NULL,
				event_id TEXT UNIQUE,
				kind TEXT NOT NULL CHECK (kind IN ('SNAPSHOT', 'PAYMENT_FAILED', 'PAID')),
				source TEXT NOT NULL CHECK (source IN ('EVENT', 'API')),
				created BIGINT NOT NULL,
				tie_rank INTEGER NOT NULL,
				snapshot TEXT,
				recorded_at {{time}} NOT NULL
			)`,
			`CREATE INDEX subscription_changes_subscription_idx ON subscription_changes (subscription_id, created, tie_rank, id)`,
			`CREATE INDEX subscription_changes_customer_idx ON subscription_changes (customer_id)`,
			`CREATE TABLE stripe_events (
				id TEXT PRIMARY KEY,
				type TEXT NOT NULL,
				created {{time}} NOT NULL,
				user_id TEXT REFERENCES users (id) ON DELETE SET NULL,
				subscription_id TEXT,
				outcome TEXT NOT NULL CHECK (outcome IN ('APPLIED', 'UNLINKED', 'IGNORED')),
				received_at {{time}} NOT NULL,
				processed_at {{time}} NOT NULL
			)`,
			`CREATE TABLE audit_log (
				id TEXT PRIMARY KEY,
				user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
				kind TEXT NOT NULL,
				detail TEXT NOT NULL,
				ip TEXT NOT NULL DEFAULT '',
				ref TEXT NOT NULL DEFAULT '',
				at {{time}} NOT NULL
			)`,
			`CREATE INDEX audit_log_user_at_idx ON audit_log (user_id, at DESC, id DESC)`,
			// One entry per user, kind and reference, whichever path records it first.
			`CREATE UNIQUE INDEX audit_log_ref_key ON audit_log (user_id, kind, ref) WHERE ref <> ''`,
		)
	}, func(ctx context.Context, db *bun.DB) error {
		return execAll(ctx, db,
			`DROP TABLE audit_log`,
			`DROP TABLE stripe_events`,
			`DROP TABLE subscription_changes`,
			`DROP TABLE subscriptions`,
			`DROP TABLE billing_accounts`,
		)
	})
}
