package billing

import (
	"context"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every function here that reads a user's rows filters by the user's ID; the few that
// do not (by Stripe's IDs, the grace sweep) serve webhooks and the server's sweep,
// never a user's query.

// --- locks ---

// lockCustomer serialises everything done for one Stripe customer: recording a
// change, linking it to a user and folding it, so two events of one subscription
// never fold without seeing each other. PostgreSQL takes a transaction-scoped
// advisory lock on the customer's ID; SQLite transactions already hold the
// database's write lock from their first statement (_txlock=immediate).
func lockCustomer(ctx context.Context, tx bun.IDB, customerID string) error {
	if tx.Dialect().Name() != dialect.PG {
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("billing.customer:" + customerID))
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(h.Sum64())); err != nil {
		return fmt.Errorf("lock customer: %w", err)
	}
	return nil
}

// lockAccount returns the user's billing account, created on first use, holding its
// row lock (on PostgreSQL) until the transaction ends: the granted tier is only
// changed under it. NOT_FOUND when the user does not exist.
func lockAccount(ctx context.Context, tx bun.IDB, userID string, now time.Time) (*models.BillingAccount, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO billing_accounts (user_id, granted_tier, created_at, updated_at)
		SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?)
		ON CONFLICT (user_id) DO NOTHING`, userID, models.TierFree, now, now, userID); err != nil {
		return nil, fmt.Errorf("create billing account: %w", err)
	}
	a := new(models.BillingAccount)
	q := tx.NewSelect().Model(a).Where("user_id = ?", userID)
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.NotFound(err, "user")
	}
	return a, nil
}

// --- billing accounts ---

// findAccount returns the user's billing account; NOT_FOUND before the first
// checkout or webhook created it, a normal state.
func findAccount(ctx context.Context, db bun.IDB, userID string) (*models.BillingAccount, error) {
	a := new(models.BillingAccount)
	if err := db.NewSelect().Model(a).Where("user_id = ?", userID).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "billing account")
	}
	return a, nil
}

// findAccountByCustomer returns the account the customer is linked to; NOT_FOUND
// for a customer not (yet) linked to a user.
func findAccountByCustomer(ctx context.Context, db bun.IDB, customerID string) (*models.BillingAccount, error) {
	a := new(models.BillingAccount)
	if err := db.NewSelect().Model(a).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "billing account")
	}
	return a, nil
}

// setCustomerIfNone links the customer to the user unless the user already has one;
// it returns the customer the user has afterwards.
func setCustomerIfNone(ctx context.Context, db bun.IDB, userID, customerID string, now time.Time) (string, error) {
	if _, err := db.NewUpdate().Model((*models.BillingAccount)(nil)).
		Set("customer_id = ?", customerID).Set("updated_at = ?", now).
		Where("user_id = ? AND customer_id IS NULL", userID).Exec(ctx); err != nil {
		return "", fmt.Errorf("link customer: %w", err)
	}
	a, err := findAccount(ctx, db, userID)
	if err != nil {
		// The row was there a statement ago: its absence now is ours, not the client's.
		return "", models.Internal(err, "link customer")
	}
	if a.CustomerID == nil {
		return "", fmt.Errorf("link customer: the billing account of %s has no customer", userID)
	}
	return *a.CustomerID, nil
}

func updateGrantedTier(ctx context.Context, db bun.IDB, userID string, tier models.Tier, now time.Time) error {
	if _, err := db.NewUpdate().Model((*models.BillingAccount)(nil)).
		Set("granted_tier = ?", tier).Set("updated_at = ?", now).
		Where("user_id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("update granted tier: %w", err)
	}
	return nil
}

// --- teams' billing accounts ---

// lockTeamAccount returns the team's billing account, created on first use, holding
// its row lock (on PostgreSQL) until the transaction ends: the team's granted tier
// and seats are only changed under it. NOT_FOUND when the team does not exist.
func lockTeamAccount(ctx context.Context, tx bun.IDB, teamID string, now time.Time) (*models.TeamBillingAccount, error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO team_billing_accounts (team_id, granted_tier, granted_seats, created_at, updated_at)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM teams WHERE id = ?)
		ON CONFLICT (team_id) DO NOTHING`, teamID, models.TierFree, models.FreeTeamSeats, now, now, teamID); err != nil {
		return nil, fmt.Errorf("create team billing account: %w", err)
	}
	a := new(models.TeamBillingAccount)
	q := tx.NewSelect().Model(a).Where("team_id = ?", teamID)
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	if err := q.Scan(ctx); err != nil {
		return nil, database.NotFound(err, "team")
	}
	return a, nil
}

// findTeamAccount returns the team's billing account; NOT_FOUND before its first
// checkout.
func findTeamAccount(ctx context.Context, db bun.IDB, teamID string) (*models.TeamBillingAccount, error) {
	a := new(models.TeamBillingAccount)
	if err := db.NewSelect().Model(a).Where("team_id = ?", teamID).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "team billing account")
	}
	return a, nil
}

// findTeamAccountByCustomer returns the team account the customer is linked to;
// NOT_FOUND for a customer that is no team's.
func findTeamAccountByCustomer(ctx context.Context, db bun.IDB, customerID string) (*models.TeamBillingAccount, error) {
	a := new(models.TeamBillingAccount)
	if err := db.NewSelect().Model(a).Where("customer_id = ?", customerID).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "team billing account")
	}
	return a, nil
}

// setTeamCustomerIfNone links the customer to the team unless it already has one; it
// returns the customer the team has afterwards.
func setTeamCustomerIfNone(ctx context.Context, db bun.IDB, teamID, customerID string, now time.Time) (string, error) {
	if _, err := db.NewUpdate().Model((*models.TeamBillingAccount)(nil)).
		Set("customer_id = ?", customerID).Set("updated_at = ?", now).
		Where("team_id = ? AND customer_id IS NULL", teamID).Exec(ctx); err != nil {
		return "", fmt.Errorf("link team customer: %w", err)
	}
	a, err := findTeamAccount(ctx, db, teamID)
	if err != nil {
		return "", models.Internal(err, "link team customer")
	}
	if a.CustomerID == nil {
		return "", fmt.Errorf("link team customer: the billing account of team %s has no customer", teamID)
	}
	return *a.CustomerID, nil
}

// setTeamContact makes userID the user the team's billing entries are recorded for.
func setTeamContact(ctx context.Context, db bun.IDB, teamID, userID string, now time.Time) error {
	if _, err := db.NewUpdate().Model((*models.TeamBillingAccount)(nil)).
		Set("contact_user_id = ?", userID).Set("updated_at = ?", now).
		Where("team_id = ?", teamID).Exec(ctx); err != nil {
		return fmt.Errorf("set team billing contact: %w", err)
	}
	return nil
}

// findTeamOwners returns the IDs of the team's owners, longest-standing first. The
// members are the team area's rows; billing reads only who owns the team, to know in
// whose personal log a team's billing entry may also go.
func findTeamOwners(ctx context.Context, db bun.IDB, teamID string) ([]string, error) {
	var ids []string
	if err := db.NewSelect().TableExpr("team_members").Column("user_id").
		Where("team_id = ?", teamID).Where("role = ?", models.TeamRoleOwner).
		Order("joined_at", "user_id").Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("find team owners: %w", err)
	}
	return ids, nil
}

func updateTeamGrant(ctx context.Context, db bun.IDB, teamID string, tier models.Tier, seats int, now time.Time) error {
	if _, err := db.NewUpdate().Model((*models.TeamBillingAccount)(nil)).
		Set("granted_tier = ?", tier).Set("granted_seats = ?", seats).Set("updated_at = ?", now).
		Where("team_id = ?", teamID).Exec(ctx); err != nil {
		return fmt.Errorf("update team grant: %w", err)
	}
	return nil
}

// --- subscriptions ---

// findSubscription returns the subscription's folded row; NOT_FOUND before it was
// first folded (its changes wait for its customer's user).
func findSubscription(ctx context.Context, db bun.IDB, id string) (*models.BillingSubscription, error) {
	s := new(models.BillingSubscription)
	if err := db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "subscription")
	}
	inUTC(s)
	return s, nil
}

// inUTC gives a subscription read back the location it was written in: drivers
// return times in the process's local zone.
func inUTC(s *models.BillingSubscription) {
	for _, t := range []**time.Time{&s.CurrentPeriodEnd, &s.PastDueSince, &s.GraceUntil, &s.StartedAt, &s.LastEventAt} {
		if *t != nil {
			u := (*t).UTC()
			*t = &u
		}
	}
	s.UpdatedAt = s.UpdatedAt.UTC()
}

func findSubscriptionsByUser(ctx context.Context, db bun.IDB, userID string) ([]*models.BillingSubscription, error) {
	var rows []*models.BillingSubscription
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", userID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find subscriptions: %w", err)
	}
	for _, s := range rows {
		inUTC(s)
	}
	return rows, nil
}

// findSubscriptionsOfSpace returns the subscriptions of a user, or of a team when id
// is a team's shared space (whose ID is the team's): IDs are UUIDs, so no user's ID is
// a team's, and each subscription has exactly one of user_id and team_id.
func findSubscriptionsOfSpace(ctx context.Context, db bun.IDB, id string) ([]*models.BillingSubscription, error) {
	var rows []*models.BillingSubscription
	if err := db.NewSelect().Model(&rows).Where("user_id = ? OR team_id = ?", id, id).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find subscriptions: %w", err)
	}
	for _, s := range rows {
		inUTC(s)
	}
	return rows, nil
}

func findSubscriptionsByTeam(ctx context.Context, db bun.IDB, teamID string) ([]*models.BillingSubscription, error) {
	var rows []*models.BillingSubscription
	if err := db.NewSelect().Model(&rows).Where("team_id = ?", teamID).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find team subscriptions: %w", err)
	}
	for _, s := range rows {
		inUTC(s)
	}
	return rows, nil
}

func upsertSubscription(ctx context.Context, db bun.IDB, s *models.BillingSubscription) error {
	q := db.NewInsert().Model(s).On("CONFLICT (id) DO UPDATE")
	for _, c := range []string{"user_id", "team_id", "customer_id", "price_id", "plan_tier", "status", "seats", "current_period_end",
		"cancel_at_period_end", "past_due_since", "grace_until", "started_at", "last_event_at", "updated_at"} {
		q = q.Set(c + " = EXCLUDED." + c)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("save subscription: %w", err)
	}
	return nil
}

// findUsersPastGrace returns the users still granted a paid tier although a
// subscription of theirs is past due beyond its grace: the grace sweep's work.
func findUsersPastGrace(ctx context.Context, db bun.IDB, now time.Time) ([]string, error) {
	var ids []string
	err := db.NewSelect().TableExpr("subscriptions AS s").
		Join("JOIN billing_accounts AS a ON a.user_id = s.user_id").
		ColumnExpr("DISTINCT s.user_id").
		Where("s.status = ?", models.SubscriptionPastDue).
		Where("s.grace_until <= ?", now).
		Where("a.granted_tier <> ?", models.TierFree).
		Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find subscriptions past grace: %w", err)
	}
	return ids, nil
}

// findTeamsPastGrace returns the teams still granted a paid tier although a
// subscription of theirs is past due beyond its grace.
func findTeamsPastGrace(ctx context.Context, db bun.IDB, now time.Time) ([]string, error) {
	var ids []string
	err := db.NewSelect().TableExpr("subscriptions AS s").
		Join("JOIN team_billing_accounts AS a ON a.team_id = s.team_id").
		ColumnExpr("DISTINCT s.team_id").
		Where("s.status = ?", models.SubscriptionPastDue).
		Where("s.grace_until <= ?", now).
		Where("a.granted_tier <> ?", models.TierFree).
		Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find team subscriptions past grace: %w", err)
	}
	return ids, nil
}

// --- changes ---

func insertChange(ctx context.Context, db bun.IDB, c *models.SubscriptionChange) error {
	if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
		return fmt.Errorf("record subscription change: %w", err)
	}
	return nil
}

func findChanges(ctx context.Context, db bun.IDB, subscriptionID string) ([]*models.SubscriptionChange, error) {
	var rows []*models.SubscriptionChange
	if err := db.NewSelect().Model(&rows).Where("subscription_id = ?", subscriptionID).
		Order("created", "tie_rank", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find subscription changes: %w", err)
	}
	return rows, nil
}

// findUnfoldedSubscriptions returns the IDs of the customer's subscriptions that have
// changes but no row yet: what linking the customer to a user makes foldable.
func findUnfoldedSubscriptions(ctx context.Context, db bun.IDB, customerID string) ([]string, error) {
	var ids []string
	err := db.NewSelect().TableExpr("subscription_changes AS c").ColumnExpr("DISTINCT c.subscription_id").
		Where("c.customer_id = ?", customerID).
		Where("NOT EXISTS (SELECT 1 FROM subscriptions AS s WHERE s.id = c.subscription_id)").
		Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find unlinked subscriptions: %w", err)
	}
	return ids, nil
}

// --- events ---

// insertEvent records the event unless it was recorded before, and reports whether
// it did. On PostgreSQL a concurrent delivery of the same event waits here until the
// first one's transaction ends, then finds it recorded.
func insertEvent(ctx context.Context, db bun.IDB, e *models.StripeEvent) (bool, error) {
	res, err := db.NewInsert().Model(e).On("CONFLICT (id) DO NOTHING").Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("record stripe event: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func updateEventOutcome(ctx context.Context, db bun.IDB, e *models.StripeEvent) error {
	if _, err := db.NewUpdate().Model(e).Column("user_id", "subscription_id", "outcome").
		Where("id = ?", e.ID).Exec(ctx); err != nil {
		return fmt.Errorf("record stripe event outcome: %w", err)
	}
	return nil
}

// findEvent returns the recorded event; NOT_FOUND when it was never recorded.
func findEvent(ctx context.Context, db bun.IDB, id string) (*models.StripeEvent, error) {
	e := new(models.StripeEvent)
	if err := db.NewSelect().Model(e).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, database.NotFound(err, "stripe event")
	}
	return e, nil
}

// isNotFound reports whether err says a row is absent, which callers that treat
// absence as normal check.
func isNotFound(err error) bool { return models.ErrorCode(err) == models.CodeNotFound }
