package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/inkgraph/inkgraph/models"
)

// What follows a commit: the account's tier, subscribers, and asking Stripe when
// the newest events of a subscription disagree.

// outcome is what applying an event (or an API answer) did, for what follows the
// commit: the account's tier, subscribers, an unresolved tie.
type outcome struct {
	outcome        models.EventOutcome
	userID         string
	teamID         string // the team whose subscription it folded, "" for a user's
	subscriptionID string
	folded         []folding
	// told says a team billing entry was recorded (a failed payment, a cancellation
	// set or undone, an end): the team's members hear of it even when its tier and
	// seats did not change.
	told bool
	// resync sets the account's tier even when the granted one did not change: a
	// redelivery may be Stripe retrying after setting it failed.
	resync bool
}

// folding is one subscription folded for one user or team.
type folding struct {
	userID         string
	teamID         string // the team the subscription serves, "" for a user's
	subscriptionID string
	customerID     string
	changed        bool  // the subscription's row changed
	tierChanged    bool  // the user's granted tier changed
	tieAt          int64 // see foldResult.tieAt
}

func (o *outcome) add(f folding) {
	o.folded = append(o.folded, f)
	o.outcome = models.OutcomeApplied
	o.userID, o.teamID = f.userID, f.teamID
}

// settle does what follows a commit: the accounts' tiers (when the granted tier
// changed, or on a redelivery), subscribers, and asking Stripe when the newest
// events of a subscription disagree. An error is worth a retry (Stripe's
// redelivery comes through redeliver and settles again).
func (s *Service) settle(ctx context.Context, res outcome) error {
	var errs []error
	for _, f := range res.folded {
		if f.teamID != "" {
			if f.tierChanged || res.told {
				s.notifyTeam(ctx, f.teamID)
			}
			if f.tieAt != 0 {
				if err := s.resolveTie(ctx, f); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		if f.tierChanged || res.resync {
			if err := s.syncTier(ctx, f.userID); err != nil {
				errs = append(errs, err)
				continue
			}
		}
		s.notify(ctx, f)
		if f.tieAt != 0 {
			if err := s.resolveTie(ctx, f); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// resolveTie asks Stripe for the subscription when its newest second holds events
// that disagree, and folds the answer in after them.
func (s *Service) resolveTie(ctx context.Context, f folding) error {
	if s.stripe == nil {
		s.logger.WarnContext(ctx, "stripe events of one second disagree and Stripe's API is not configured: the later delivery stands",
			"subscription_id", f.subscriptionID)
		return nil
	}
	sub, err := s.stripe.getSubscription(ctx, f.subscriptionID)
	if err != nil {
		return fmt.Errorf("billing: re-fetch subscription %s to settle a tie: %w", f.subscriptionID, err)
	}
	res, err := s.recordAPIAnswer(ctx, holder{userID: f.userID, teamID: f.teamID}, f.customerID, sub, f.tieAt)
	if err != nil {
		return err
	}
	return s.settle(ctx, res)
}
