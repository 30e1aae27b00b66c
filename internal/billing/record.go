package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Recording a subscription's changes under its customer's lock, finding whose it
// is, folding them into its row and granting the tier it gives, under the user's
// account lock. Webhooks and Stripe's API answers both arrive here.

// holder is whom a subscription serves: a user (userID) or a team (teamID); the zero
// holder is nobody known yet.
type holder struct{ userID, teamID string }

func (h holder) none() bool { return h.userID == "" && h.teamID == "" }

// linkCustomer returns whom the customer belongs to: a user, a team, or nobody.
func (s *Service) linkCustomer(ctx context.Context, tx bun.IDB, customerID, userHint string, _ time.Time) (holder, error) {
	// Only a customer Inkgraph created (and stored before the checkout) belongs to a
	// user or a team. The event's hints (client_reference_id, metadata.user_id) are
	// never taken for ownership: with a Payment Link or pricing table anyone can set
	// them, and a foreign customer would then be charged to, or shown to, someone else.
	a, err := findAccountByCustomer(ctx, tx, customerID)
	if isNotFound(err) {
		team, err := findTeamAccountByCustomer(ctx, tx, customerID)
		if err == nil {
			return holder{teamID: team.TeamID}, nil
		}
		if !isNotFound(err) {
			return holder{}, err
		}
		if userHint != "" {
			s.logger.WarnContext(ctx, "stripe event for a customer Inkgraph did not create: ignored",
				"customer_id", customerID, "claimed_user_id", userHint)
		}
		return holder{}, nil
	}
	if err != nil {
		return holder{}, err
	}
	if userHint != "" && userHint != a.UserID {
		s.logger.WarnContext(ctx, "stripe event names another user than its customer's: the customer's owner wins",
			"customer_id", customerID, "user_id", a.UserID, "claimed_user_id", userHint)
	}
	return holder{userID: a.UserID}, nil
}

// recordChange stores one change of a subscription under its customer's lock and,
// when the subscription's user is known, folds the subscription.
func (s *Service) recordChange(ctx context.Context, tx bun.Tx, c *models.SubscriptionChange, userHint string, now time.Time) (outcome, error) {
	res := outcome{outcome: models.OutcomeUnlinked, subscriptionID: c.SubscriptionID}
	if c.CustomerID == "" {
		existing, err := findSubscription(ctx, tx, c.SubscriptionID)
		if isNotFound(err) {
			return res, nil // no customer to record it under yet
		}
		if err != nil {
			return res, err
		}
		c.CustomerID = existing.CustomerID
	}
	if err := lockCustomer(ctx, tx, c.CustomerID); err != nil {
		return res, err
	}
	id, err := newID()
	if err != nil {
		return res, err
	}
	c.ID, c.RecordedAt = id, now
	if err := insertChange(ctx, tx, c); err != nil {
		return res, err
	}
	h, err := s.ownerOf(ctx, tx, c.SubscriptionID, c.CustomerID, userHint, now)
	if err != nil || h.none() {
		return res, err
	}
	f, err := s.foldInto(ctx, tx, h, c.SubscriptionID, now)
	if err != nil {
		return res, err
	}
	res.add(f)
	return res, nil
}

// ownerOf finds whom a subscription serves: the user or team it was folded for, or
// its customer's. Nobody when none is known yet: the change waits for a link.
func (s *Service) ownerOf(ctx context.Context, tx bun.IDB, subscriptionID, customerID, userHint string, now time.Time) (holder, error) {
	existing, err := findSubscription(ctx, tx, subscriptionID)
	if isNotFound(err) {
		return s.linkCustomer(ctx, tx, customerID, userHint, now)
	}
	if err != nil {
		return holder{}, err
	}
	return holder{userID: existing.UserID, teamID: existing.TeamID}, nil
}

// recordAPIAnswer folds a subscription as Stripe's API returned it. It is placed
// after every change known so far, at the newest second (at least at), since Stripe
// answered after all of them; any later event still overrides it.
// customerID is the customer the subscription was folded under, whose lock every
// change of it is recorded under.
func (s *Service) recordAPIAnswer(ctx context.Context, h holder, customerID string, sub *stripeSubscription, at int64) (outcome, error) {
	var res outcome
	snap := sub.snapshot(s.tierOfPrice)
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res = outcome{}
		now := s.now()
		if err := lockCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		changes, err := findChanges(ctx, tx, sub.ID)
		if err != nil {
			return err
		}
		created := at
		for _, c := range changes {
			created = max(created, c.Created)
		}
		id, err := newID()
		if err != nil {
			return err
		}
		if err := insertChange(ctx, tx, &models.SubscriptionChange{ID: id, SubscriptionID: sub.ID, CustomerID: customerID,
			Kind: models.ChangeSnapshot, Source: models.SourceAPI, Created: created, Rank: rankAPI, Snapshot: snap,
			RecordedAt: now}); err != nil {
			return err
		}
		f, err := s.foldInto(ctx, tx, h, sub.ID, now)
		if err != nil {
			return err
		}
		res.add(f)
		return nil
	})
	return res, err
}

// foldInto folds all of a subscription's changes into its row for its holder and
// brings the holder's granted tier in line, under the holder's account lock.
func (s *Service) foldInto(ctx context.Context, tx bun.IDB, h holder, subscriptionID string, now time.Time) (folding, error) {
	if h.teamID != "" {
		return s.foldIntoTeam(ctx, tx, h.teamID, subscriptionID, now)
	}
	userID := h.userID
	f := folding{userID: userID, subscriptionID: subscriptionID}
	acct, err := lockAccount(ctx, tx, userID, now)
	if isNotFound(err) {
		return f, fmt.Errorf("fold subscription %s: user %s does not exist", subscriptionID, userID)
	}
	if err != nil {
		return f, err
	}
	if err := s.storeFold(ctx, tx, &f, now, func(sub *models.BillingSubscription) { sub.UserID = userID }); err != nil {
		return f, err
	}
	f.tierChanged, err = s.grant(ctx, tx, acct, now)
	return f, err
}

// storeFold folds all of f's subscription's changes into its row, which hold stamps
// with its holder (a user or a team), and stores the row when it changed. The caller
// holds the holder's lock.
func (s *Service) storeFold(ctx context.Context, tx bun.IDB, f *folding, now time.Time, hold func(*models.BillingSubscription)) error {
	changes, err := findChanges(ctx, tx, f.subscriptionID)
	if err != nil {
		return err
	}
	r := fold(changes, s.tierOfPrice, s.cfg.PastDueGrace)
	next := r.sub
	next.ID, next.UpdatedAt = f.subscriptionID, now
	hold(&next)
	f.customerID, f.tieAt = next.CustomerID, r.tieAt
	prev, err := findSubscription(ctx, tx, f.subscriptionID)
	if err != nil && !isNotFound(err) {
		return err
	}
	if prev == nil || !sameSubscription(prev, &next) { // nil: folded for the first time
		if err := upsertSubscription(ctx, tx, &next); err != nil {
			return err
		}
		f.changed = true
	}
	return nil
}

// grant sets the account's granted tier to what the user's current subscription
// grants at now, and records a change. The caller holds the account lock.
func (s *Service) grant(ctx context.Context, tx bun.IDB, acct *models.BillingAccount, now time.Time) (bool, error) {
	subs, err := findSubscriptionsByUser(ctx, tx, acct.UserID)
	if err != nil {
		return false, err
	}
	cur := currentSubscription(subs, now)
	if cur == nil {
		return false, nil
	}
	tier := effectiveTier(cur, now)
	if tier == acct.GrantedTier {
		return false, nil
	}
	if err := updateGrantedTier(ctx, tx, acct.UserID, tier, now); err != nil {
		return false, err
	}
	detail := models.AuditDetail{"from": string(acct.GrantedTier), "to": string(tier),
		"subscription": cur.ID, "status": string(cur.Status)}
	if graceExpired(cur, now) {
		detail["reason"] = "the grace period after a failed payment ended"
	}
	if err := s.audit(ctx, tx, acct.UserID, models.AuditTierChanged, detail, "", "", now); err != nil {
		return false, err
	}
	acct.GrantedTier = tier
	return true, nil
}
