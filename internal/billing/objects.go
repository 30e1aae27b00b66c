package billing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// Stripe's objects as webhooks and API answers carry them, read across API
// versions: what the fold keeps of a subscription, an invoice's subscription, a
// checkout's customer and user.

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
