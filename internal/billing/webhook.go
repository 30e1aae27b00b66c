package billing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// ErrWebhookRejected is what every refused delivery is (errors.Is): a bad or missing
// signature, a stale one, a payload that is not an event. Nothing was written; the
// HTTP layer answers 400 so Stripe does not retry it as is. Any other error from
// HandleWebhook is a failure worth retrying (500).
var ErrWebhookRejected = errors.New("billing: webhook rejected")

var (
	ErrBadSignature       error = &rejected{"bad or missing Stripe-Signature"}
	ErrStaleWebhook       error = &rejected{"signature older than 5 minutes"}
	ErrMalformedWebhook   error = &rejected{"payload is not a Stripe event"}
	ErrWebhooksNotEnabled error = &rejected{"webhooks are not configured (STRIPE_WEBHOOK_SECRET)"}
)

type rejected struct{ reason string }

func (e *rejected) Error() string        { return "billing: webhook rejected: " + e.reason }
func (e *rejected) Is(target error) bool { return target == ErrWebhookRejected }

// event is the part of a verified Stripe event the service reads.
type event struct {
	ID        string
	Type      string
	Created   int64
	Object    json.RawMessage
	Previous  map[string]any
	RequestID string // the API request that caused it, "" for none
}

// --- Stripe's objects, read across API versions ---

// expandable is an ID Stripe sends either as a string or, expanded, as an object.
type expandable string

func (e *expandable) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*e = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*e = expandable(s)
	default:
		var o struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &o); err != nil {
			return err
		}
		*e = expandable(o.ID)
	}
	return nil
}

// stripeSubscription is a subscription object. Its period end moved from the
// subscription to its items in API version 2025-03-31; both are read.
type stripeSubscription struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Customer          expandable        `json:"customer"`
	Status            string            `json:"status"`
	CancelAtPeriodEnd bool              `json:"cancel_at_period_end"`
	CurrentPeriodEnd  int64             `json:"current_period_end"`
	Created           int64             `json:"created"`
	Metadata          map[string]string `json:"metadata"`
	Items             struct {
		Data []struct {
			Price struct {
				ID string `json:"id"`
			} `json:"price"`
			Quantity         int   `json:"quantity"`
			CurrentPeriodEnd int64 `json:"current_period_end"`
		} `json:"data"`
	} `json:"items"`
}

func parseSubscription(raw []byte) (*stripeSubscription, error) {
	var s stripeSubscription
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decode subscription: %w", err)
	}
	if s.ID == "" || s.Object != "subscription" {
		return nil, fmt.Errorf("not a subscription object (%q)", s.Object)
	}
	return &s, nil
}

// snapshot is what the fold keeps of s: the item whose price is a known tier's (else
// the first) gives the price, seats and, in newer API versions, the period end.
func (s *stripeSubscription) snapshot(prices map[string]models.Tier) *models.SubscriptionSnapshot {
	out := &models.SubscriptionSnapshot{
		CustomerID:        string(s.Customer),
		Status:            parseStatus(s.Status),
		CancelAtPeriodEnd: s.CancelAtPeriodEnd,
		CurrentPeriodEnd:  s.CurrentPeriodEnd,
		Created:           s.Created,
		UserID:            s.Metadata["user_id"],
	}
	items := s.Items.Data
	pick := -1
	for i, it := range items {
		if _, ok := prices[it.Price.ID]; ok {
			pick = i
			break
		}
	}
	if pick < 0 && len(items) > 0 {
		pick = 0
	}
	if pick >= 0 {
		it := items[pick]
		out.PriceID, out.Quantity = it.Price.ID, it.Quantity
		if out.CurrentPeriodEnd == 0 {
			out.CurrentPeriodEnd = it.CurrentPeriodEnd
		}
	}
	return out
}

// parseStatus maps Stripe's status; one Inkgraph does not know grants nothing.
func parseStatus(s string) models.SubscriptionStatus {
	st := models.SubscriptionStatus(strings.ToUpper(s))
	switch st {
	case models.SubscriptionIncomplete, models.SubscriptionIncompleteExpired, models.SubscriptionTrialing,
		models.SubscriptionActive, models.SubscriptionPastDue, models.SubscriptionCanceled,
		models.SubscriptionUnpaid, models.SubscriptionPaused:
		return st
	}
	return models.SubscriptionIncomplete
}

// stripeInvoice is an invoice object. Its subscription moved under
// parent.subscription_details in API version 2025-03-31; both are read.
type stripeInvoice struct {
	ID                 string     `json:"id"`
	Object             string     `json:"object"`
	Customer           expandable `json:"customer"`
	Subscription       expandable `json:"subscription"`
	AmountDue          int64      `json:"amount_due"`
	Currency           string     `json:"currency"`
	AttemptCount       int        `json:"attempt_count"`
	NextPaymentAttempt int64      `json:"next_payment_attempt"`
	Parent             *struct {
		SubscriptionDetails *struct {
			Subscription expandable `json:"subscription"`
		} `json:"subscription_details"`
	} `json:"parent"`
}

func parseInvoice(raw []byte) (*stripeInvoice, error) {
	var in stripeInvoice
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("decode invoice: %w", err)
	}
	if in.ID == "" || in.Object != "invoice" {
		return nil, fmt.Errorf("not an invoice object (%q)", in.Object)
	}
	if in.Subscription == "" && in.Parent != nil && in.Parent.SubscriptionDetails != nil {
		in.Subscription = in.Parent.SubscriptionDetails.Subscription
	}
	return &in, nil
}

type stripeCheckoutSession struct {
	ID                string            `json:"id"`
	Object            string            `json:"object"`
	Mode              string            `json:"mode"`
	ClientReferenceID string            `json:"client_reference_id"`
	Customer          expandable        `json:"customer"`
	Subscription      expandable        `json:"subscription"`
	Metadata          map[string]string `json:"metadata"`
}

func parseCheckoutSession(raw []byte) (*stripeCheckoutSession, error) {
	var cs stripeCheckoutSession
	if err := json.Unmarshal(raw, &cs); err != nil {
		return nil, fmt.Errorf("decode checkout session: %w", err)
	}
	if cs.ID == "" || cs.Object != "checkout.session" {
		return nil, fmt.Errorf("not a checkout session object (%q)", cs.Object)
	}
	return &cs, nil
}

// --- handling ---

// HandleWebhook verifies and processes one delivery of POST /webhooks/stripe:
// payload is the raw body, signatureHeader the Stripe-Signature header.
//
// A refused delivery (errors.Is(err, ErrWebhookRejected)) wrote nothing. An event
// already processed succeeds without being applied again, whether it arrives later
// or at the same moment on another instance: its ID is recorded in the transaction
// that applies it. Any other error means nothing of the event was committed, or the
// account's tier could not be brought in line yet: answer 500 so Stripe retries.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signatureHeader string) error {
	if s.cfg.WebhookSecret == "" {
		return ErrWebhooksNotEnabled
	}
	now := s.now()
	ev, err := verifyEvent(payload, signatureHeader, s.cfg.WebhookSecret, now)
	if err != nil {
		return err
	}
	var res outcome
	duplicate := false
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		res = outcome{}
		rec := &models.StripeEvent{ID: ev.ID, Type: ev.Type, Created: time.Unix(ev.Created, 0).UTC(),
			Outcome: models.OutcomeIgnored, ReceivedAt: now, ProcessedAt: now}
		inserted, err := insertEvent(ctx, tx, rec)
		if err != nil {
			return err
		}
		if !inserted {
			duplicate = true
			return nil
		}
		res, err = s.apply(ctx, tx, ev, now)
		if err != nil {
			return err
		}
		rec.Outcome = res.outcome
		if res.userID != "" {
			rec.UserID = &res.userID
		}
		if res.subscriptionID != "" {
			rec.SubscriptionID = &res.subscriptionID
		}
		return updateEventOutcome(ctx, tx, rec)
	})
	if err != nil {
		return fmt.Errorf("billing: process stripe event %s (%s): %w", ev.ID, ev.Type, err)
	}
	if duplicate {
		return s.redeliver(ctx, ev.ID)
	}
	return s.settle(ctx, res)
}

// outcome is what applying an event (or an API answer) did, for what follows the
// commit: the account's tier, subscribers, an unresolved tie.
type outcome struct {
	outcome        models.EventOutcome
	userID         string
	subscriptionID string
	folded         []folding
	// resync sets the account's tier even when the granted one did not change: a
	// redelivery may be Stripe retrying after setting it failed.
	resync bool
}

// folding is one subscription folded for one user.
type folding struct {
	userID         string
	subscriptionID string
	customerID     string
	changed        bool  // the subscription's row changed
	tierChanged    bool  // the user's granted tier changed
	tieAt          int64 // see foldResult.tieAt
}

func (o *outcome) add(f folding) {
	o.folded = append(o.folded, f)
	o.outcome = models.OutcomeApplied
	o.userID = f.userID
}

// apply does what the event says, inside the transaction that recorded it.
func (s *Service) apply(ctx context.Context, tx bun.Tx, ev *event, now time.Time) (outcome, error) {
	switch ev.Type {
	case "customer.subscription.created", "customer.subscription.updated", "customer.subscription.deleted",
		"customer.subscription.paused", "customer.subscription.resumed":
		return s.applySubscriptionEvent(ctx, tx, ev, now)
	case "invoice.paid", "invoice.payment_failed":
		return s.applyInvoiceEvent(ctx, tx, ev, now)
	case "checkout.session.completed":
		return s.applyCheckoutCompleted(ctx, tx, ev, now)
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
	if err != nil || res.userID == "" {
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
		if err := s.audit(ctx, tx, res.userID, kind, detail, "", ref, now); err != nil {
			return res, err
		}
	}
	if ev.Type == "customer.subscription.deleted" {
		if err := s.audit(ctx, tx, res.userID, models.AuditSubscriptionEnded, detail, "", ev.ID, now); err != nil {
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
	if err != nil || res.userID == "" || paid {
		return res, err
	}
	detail := models.AuditDetail{"subscription": string(in.Subscription), "invoice": in.ID,
		"amountDue": strconv.FormatInt(in.AmountDue, 10), "currency": in.Currency,
		"attempt": strconv.Itoa(in.AttemptCount), "graceUntil": time.Unix(ev.Created, 0).Add(s.cfg.PastDueGrace).UTC().Format(time.RFC3339)}
	if in.NextPaymentAttempt != 0 {
		detail["nextAttempt"] = time.Unix(in.NextPaymentAttempt, 0).UTC().Format(time.RFC3339)
	}
	return res, s.audit(ctx, tx, res.userID, models.AuditPaymentFailed, detail, "", ev.ID, now)
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
	if err != nil || owner == "" {
		return res, err
	}
	res.userID = owner
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

// linkCustomer returns the user the customer belongs to, "" when it is no user's.
func (s *Service) linkCustomer(ctx context.Context, tx bun.IDB, customerID, userHint string, _ time.Time) (string, error) {
	// Only a customer Inkgraph created (and stored before the checkout) belongs to a
	// user. The event's hints (client_reference_id, metadata.user_id) are never taken
	// for ownership: with a Payment Link or pricing table anyone can set them, and a
	// foreign customer would then be charged to, or shown to, someone else.
	a, err := findAccountByCustomer(ctx, tx, customerID)
	if err != nil || a == nil {
		if err == nil && userHint != "" {
			s.logger.WarnContext(ctx, "stripe event for a customer Inkgraph did not create: ignored",
				"customer_id", customerID, "claimed_user_id", userHint)
		}
		return "", err
	}
	if userHint != "" && userHint != a.UserID {
		s.logger.WarnContext(ctx, "stripe event names another user than its customer's: the customer's owner wins",
			"customer_id", customerID, "user_id", a.UserID, "claimed_user_id", userHint)
	}
	return a.UserID, nil
}

// recordChange stores one change of a subscription under its customer's lock and,
// when the subscription's user is known, folds the subscription.
func (s *Service) recordChange(ctx context.Context, tx bun.Tx, c *models.SubscriptionChange, userHint string, now time.Time) (outcome, error) {
	res := outcome{outcome: models.OutcomeUnlinked, subscriptionID: c.SubscriptionID}
	if c.CustomerID == "" {
		existing, err := findSubscription(ctx, tx, c.SubscriptionID)
		if err != nil || existing == nil {
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
	userID, err := s.ownerOf(ctx, tx, c.SubscriptionID, c.CustomerID, userHint, now)
	if err != nil || userID == "" {
		return res, err
	}
	f, err := s.foldInto(ctx, tx, userID, c.SubscriptionID, now)
	if err != nil {
		return res, err
	}
	res.add(f)
	return res, nil
}

// ownerOf finds the user a subscription belongs to: the one it was folded for, the
// customer's, or the user its metadata names (set at checkout), who is then linked
// to the customer. "" when none is known yet: the change waits for a link.
func (s *Service) ownerOf(ctx context.Context, tx bun.IDB, subscriptionID, customerID, userHint string, now time.Time) (string, error) {
	existing, err := findSubscription(ctx, tx, subscriptionID)
	if err != nil {
		return "", err
	}
	if existing != nil {
		return existing.UserID, nil
	}
	return s.linkCustomer(ctx, tx, customerID, userHint, now)
}

// foldInto folds all of a subscription's changes into its row for userID and
// brings the user's granted tier in line, under the user's account lock.
func (s *Service) foldInto(ctx context.Context, tx bun.IDB, userID, subscriptionID string, now time.Time) (folding, error) {
	f := folding{userID: userID, subscriptionID: subscriptionID}
	acct, err := lockAccount(ctx, tx, userID, now)
	if err != nil {
		return f, err
	}
	if acct == nil {
		return f, fmt.Errorf("fold subscription %s: user %s does not exist", subscriptionID, userID)
	}
	changes, err := findChanges(ctx, tx, subscriptionID)
	if err != nil {
		return f, err
	}
	r := fold(changes, s.tierOfPrice, s.cfg.PastDueGrace)
	next := r.sub
	next.ID, next.UserID, next.UpdatedAt = subscriptionID, userID, now
	f.customerID, f.tieAt = next.CustomerID, r.tieAt
	prev, err := findSubscription(ctx, tx, subscriptionID)
	if err != nil {
		return f, err
	}
	if prev == nil || !sameSubscription(prev, &next) {
		if err := upsertSubscription(ctx, tx, &next); err != nil {
			return f, err
		}
		f.changed = true
	}
	f.tierChanged, err = s.grant(ctx, tx, acct, now)
	return f, err
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

// settle does what follows a commit: the accounts' tiers (when the granted tier
// changed, or on a redelivery), subscribers, and asking Stripe when the newest
// events of a subscription disagree. An error is worth a retry (Stripe's
// redelivery comes through redeliver and settles again).
func (s *Service) settle(ctx context.Context, res outcome) error {
	var errs []error
	for _, f := range res.folded {
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

// redeliver handles an event seen before: nothing is applied again, but the user's
// tier is brought in line once more, in case the first delivery failed after its
// commit. Nothing is written when everything already agrees.
func (s *Service) redeliver(ctx context.Context, eventID string) error {
	rec, err := findEvent(ctx, s.db, eventID)
	if err != nil {
		return err
	}
	if rec == nil || rec.UserID == nil {
		return nil
	}
	var sub *models.BillingSubscription
	if rec.SubscriptionID != nil {
		if sub, err = findSubscription(ctx, s.db, *rec.SubscriptionID); err != nil {
			return err
		}
	}
	if sub == nil {
		return s.syncTier(ctx, *rec.UserID)
	}
	var f folding
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockCustomer(ctx, tx, sub.CustomerID); err != nil {
			return err
		}
		var err error
		f, err = s.foldInto(ctx, tx, sub.UserID, sub.ID, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("billing: settle redelivered event %s: %w", eventID, err)
	}
	return s.settle(ctx, outcome{folded: []folding{f}, resync: true})
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
	res, err := s.recordAPIAnswer(ctx, f.userID, f.customerID, sub, f.tieAt)
	if err != nil {
		return err
	}
	return s.settle(ctx, res)
}

// recordAPIAnswer folds a subscription as Stripe's API returned it. It is placed
// after every change known so far, at the newest second (at least at), since Stripe
// answered after all of them; any later event still overrides it.
// customerID is the customer the subscription was folded under, whose lock every
// change of it is recorded under.
func (s *Service) recordAPIAnswer(ctx context.Context, userID, customerID string, sub *stripeSubscription, at int64) (outcome, error) {
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
		f, err := s.foldInto(ctx, tx, userID, sub.ID, now)
		if err != nil {
			return err
		}
		res.add(f)
		return nil
	})
	return res, err
}
