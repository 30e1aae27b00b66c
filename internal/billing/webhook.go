package billing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// HandleWebhook verifies and processes one delivery of POST /webhooks/stripe:
// payload is the raw body, signatureHeader the Stripe-Signature header.
//
// A refused delivery (errors.Is(err, ErrWebhookRejected)) wrote nothing. An event
// already processed succeeds without being applied again, whether it arrives later
// or at the same moment on another instance: its ID is recorded in the transaction
// that applies it. Any other error means nothing of the event was committed, or the
// account's tier could not be brought in line yet: answer 500 so Stripe retries.
func (s *Service) HandleWebhook(ctx context.Context, payload []byte, signatureHeader string) error {
	_, err := s.ProcessWebhook(ctx, payload, signatureHeader)
	return err
}

// Webhook results: what one delivery did, as the webhook metrics count it.
const (
	WebhookApplied   = "applied"   // recorded and acted on (or kept until its customer is linked)
	WebhookDuplicate = "duplicate" // an event processed before: not applied again
	WebhookIgnored   = "ignored"   // recorded; a type or object billing does not act on
	WebhookRejected  = "rejected"  // refused: bad or stale signature, not an event
	WebhookFailed    = "failed"    // a failure Stripe's retry can fix
)

// OtherEventType stands for every event type billing does not act on, and for a
// refused delivery, whose type was never verified.
const OtherEventType = "other"

// WebhookResult says what one delivery was and what processing it did, with values
// from small fixed sets (a metric's labels).
type WebhookResult struct {
	// Type is the event's type when billing acts on it, OtherEventType otherwise.
	Type string
	// Result is one of WebhookApplied, WebhookDuplicate, WebhookIgnored,
	// WebhookRejected, WebhookFailed.
	Result string
}

// ProcessWebhook is HandleWebhook, also saying what the delivery did.
func (s *Service) ProcessWebhook(ctx context.Context, payload []byte, signatureHeader string) (WebhookResult, error) {
	res := WebhookResult{Type: OtherEventType, Result: WebhookRejected}
	if s.cfg.WebhookSecret == "" {
		return res, ErrWebhooksNotEnabled
	}
	now := s.now()
	ev, err := verifyEvent(payload, signatureHeader, s.cfg.WebhookSecret, now)
	if err != nil {
		return res, err
	}
	if _, ok := appliers[ev.Type]; ok {
		res.Type = ev.Type
	}
	var out outcome
	duplicate := false
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		out = outcome{}
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
		out, err = s.apply(ctx, tx, ev, now)
		if err != nil {
			return err
		}
		rec.Outcome = out.outcome
		if out.userID != "" {
			rec.UserID = &out.userID
		}
		if out.subscriptionID != "" {
			rec.SubscriptionID = &out.subscriptionID
		}
		return updateEventOutcome(ctx, tx, rec)
	})
	res.Result = WebhookFailed
	if err != nil {
		return res, fmt.Errorf("billing: process stripe event %s (%s): %w", ev.ID, ev.Type, err)
	}
	if duplicate {
		err = s.redeliver(ctx, ev.ID)
	} else {
		err = s.settle(ctx, out)
	}
	if err != nil {
		return res, err
	}
	switch {
	case duplicate:
		res.Result = WebhookDuplicate
	case out.outcome == models.OutcomeIgnored:
		res.Result = WebhookIgnored
	default:
		res.Result = WebhookApplied
	}
	return res, nil
}

// redeliver handles an event seen before: nothing is applied again, but its
// subscription is folded again for its holder (a user or a team) and a user's tier
// brought in line once more, in case the first delivery failed after its commit (an
// unresolved tie is asked of Stripe again). Nothing is written when everything
// already agrees.
func (s *Service) redeliver(ctx context.Context, eventID string) error {
	rec, err := findEvent(ctx, s.db, eventID)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	// A team's events record no user: the subscription says whose it is, user or
	// team, and is folded again for them either way.
	syncUser := func() error {
		if rec.UserID == nil {
			return nil
		}
		return s.syncTier(ctx, *rec.UserID)
	}
	if rec.SubscriptionID == nil {
		return syncUser()
	}
	sub, err := findSubscription(ctx, s.db, *rec.SubscriptionID)
	if isNotFound(err) {
		return syncUser()
	}
	if err != nil {
		return err
	}
	var f folding
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := lockCustomer(ctx, tx, sub.CustomerID); err != nil {
			return err
		}
		var err error
		f, err = s.foldInto(ctx, tx, holder{userID: sub.UserID, teamID: sub.TeamID}, sub.ID, s.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("billing: settle redelivered event %s: %w", eventID, err)
	}
	return s.settle(ctx, outcome{folded: []folding{f}, resync: true})
}
