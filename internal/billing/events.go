package billing

import (
	"context"
	"strconv"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// What each Stripe event means, applied inside the transaction that records it.

// appliers are what billing does with each event type it acts on; it ignores every
// other type. The webhook metric's type label is one of these, or "other".
var appliers = map[string]func(*Service, context.Context, bun.Tx, *event, time.Time) (outcome, error){
	"customer.subscription.created": (*Service).applySubscriptionEvent,
	"customer.subscription.updated": (*Service).applySubscriptionEvent,
	"customer.subscription.deleted": (*Service).applySubscriptionEvent,
	"customer.subscription.paused":  (*Service).applySubscriptionEvent,
	"customer.subscription.resumed": (*Service).applySubscriptionEvent,
	"invoice.paid":                  (*Service).applyInvoiceEvent,
	"invoice.payment_failed":        (*Service).applyInvoiceEvent,
	"checkout.session.completed":    (*Service).applyCheckoutCompleted,
}

// apply does what the event says, inside the transaction that recorded it.
func (s *Service) apply(ctx context.Context, tx bun.Tx, ev *event, now time.Time) (outcome, error) {
	if do, ok := appliers[ev.Type]; ok {
		return do(s, ctx, tx, ev, now)
	}
	return outcome{outcome: models.OutcomeIgnored}, nil
}

func (s *Service) applySubscriptionEvent(ctx context.Context, tx bun.Tx, ev *event, now time.Time) (outcome, error) {
	sub, err := parseSubscription(ev.Object)
	if err != nil {
		s.logger.WarnContext(ctx, "stripe event without a readable subscription", "event_id", ev.ID, "error", err)
		return outcome{outcome: models.OutcomeIgnored}, nil
	}
	snap := sub.snapshot(s.tierOfPrice)
	if _, known := s.tierOfPrice[snap.PriceID]; !known {
		s.logger.WarnContext(ctx, "stripe subscription with a price no tier is configured for: it grants the free tier",
			"subscription_id", sub.ID, "price_id", snap.PriceID)
	}
	eventID := ev.ID
	c := &models.SubscriptionChange{SubscriptionID: sub.ID, CustomerID: snap.CustomerID, EventID: &eventID,
		Kind: models.ChangeSnapshot, Source: models.SourceEvent, Created: ev.Created,
		Rank: snapshotRank(snap.Status), Snapshot: snap}
	res, err := s.recordChange(ctx, tx, c, snap.UserID, now)
	if err != nil || (res.userID == "" && res.teamID == "") {
		return res, err
	}
	// Audit what the event itself says happened; Ref keeps one entry per Stripe
	// request however it is seen (the API's answer, this event).
	ref := ev.RequestID
	if ref == "" {
		ref = ev.ID
	}
	detail := models.AuditDetail{"subscription": sub.ID, "source": "stripe"}
	if snap.CurrentPeriodEnd != 0 {
		detail["periodEnd"] = time.Unix(snap.CurrentPeriodEnd, 0).UTC().Format(time.RFC3339)
	}
	if _, flipped := ev.Previous["cancel_at_period_end"]; flipped && ev.Type == "customer.subscription.updated" {
		kind := models.AuditSubscriptionResumed
		if snap.CancelAtPeriodEnd {
			kind = models.AuditSubscriptionCanceled
		}
		if err := s.auditHolder(ctx, tx, &res, kind, detail, ref, now); err != nil {
			return res, err
		}
	}
	if ev.Type == "customer.subscription.deleted" {
		if err := s.auditHolder(ctx, tx, &res, models.AuditSubscriptionEnded, detail, ev.ID, now); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (s *Service) applyInvoiceEvent(ctx context.Context, tx bun.Tx, ev *event, now time.Time) (outcome, error) {
	in, err := parseInvoice(ev.Object)
	if err != nil {
		s.logger.WarnContext(ctx, "stripe event without a readable invoice", "event_id", ev.ID, "error", err)
		return outcome{outcome: models.OutcomeIgnored}, nil
	}
	if in.Subscription == "" {
		return outcome{outcome: models.OutcomeIgnored}, nil // a one-off invoice: no subscription to change
	}
	kind, paid := models.ChangePaymentFailed, ev.Type == "invoice.paid"
	if paid {
		kind = models.ChangePaid
	}
	eventID := ev.ID
	c := &models.SubscriptionChange{SubscriptionID: string(in.Subscription), CustomerID: string(in.Customer), EventID: &eventID,
		Kind: kind, Source: models.SourceEvent, Created: ev.Created, Rank: rankInvoice}
	res, err := s.recordChange(ctx, tx, c, "", now)
	if err != nil || (res.userID == "" && res.teamID == "") || paid {
		return res, err
	}
	detail := models.AuditDetail{"subscription": string(in.Subscription), "invoice": in.ID,
		"amountDue": strconv.FormatInt(in.AmountDue, 10), "currency": in.Currency,
		"attempt": strconv.Itoa(in.AttemptCount), "graceUntil": time.Unix(ev.Created, 0).Add(s.cfg.PastDueGrace).UTC().Format(time.RFC3339)}
	if in.NextPaymentAttempt != 0 {
		detail["nextAttempt"] = time.Unix(in.NextPaymentAttempt, 0).UTC().Format(time.RFC3339)
	}
	return res, s.auditHolder(ctx, tx, &res, models.AuditPaymentFailed, detail, ev.ID, now)
}

// auditHolder records what an event says happened to a subscription in its
// holder's log: the user's, or the team's (auditTeam), whose members then hear of it.
func (s *Service) auditHolder(ctx context.Context, tx bun.Tx, res *outcome, kind models.AuditKind, detail models.AuditDetail, ref string, now time.Time) error {
	if res.teamID == "" {
		return s.audit(ctx, tx, res.userID, kind, detail, "", ref, now)
	}
	acct, err := findTeamAccount(ctx, tx, res.teamID)
	if err != nil {
		return err
	}
	res.told = true
	return s.auditTeam(ctx, tx, acct, kind, detail, ref, now)
}

// applyCheckoutCompleted links the session's customer to the user who started it
// (client_reference_id) and folds what was waiting for that link. The tier itself
// comes from the subscription's own events.
func (s *Service) applyCheckoutCompleted(ctx context.Context, tx bun.Tx, ev *event, now time.Time) (outcome, error) {
	cs, err := parseCheckoutSession(ev.Object)
	if err != nil {
		s.logger.WarnContext(ctx, "stripe event without a readable checkout session", "event_id", ev.ID, "error", err)
		return outcome{outcome: models.OutcomeIgnored}, nil
	}
	userID := cs.ClientReferenceID
	if userID == "" {
		userID = cs.Metadata["user_id"]
	}
	customerID := string(cs.Customer)
	if cs.Mode != "subscription" || userID == "" || customerID == "" {
		return outcome{outcome: models.OutcomeIgnored}, nil
	}
	res := outcome{outcome: models.OutcomeUnlinked, subscriptionID: string(cs.Subscription)}
	if err := lockCustomer(ctx, tx, customerID); err != nil {
		return res, err
	}
	owner, err := s.linkCustomer(ctx, tx, customerID, userID, now)
	if err != nil || owner.none() {
		return res, err
	}
	res.userID = owner.userID
	res.outcome = models.OutcomeApplied
	ids, err := findUnfoldedSubscriptions(ctx, tx, customerID)
	if err != nil {
		return res, err
	}
	for _, id := range ids {
		f, err := s.foldInto(ctx, tx, owner, id, now)
		if err != nil {
			return res, err
		}
		res.add(f)
	}
	return res, nil
}
