package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// This file is the only one that imports stripe-go. It talks to Stripe through a
// client of its own (key, base URL, HTTP client and logger of this service), never
// through stripe-go's package-level globals, so two services (or tests) never share
// Stripe settings.

// webhookTolerance is how old a webhook's signature may be: Stripe's own default.
// An older one is a replay of a captured delivery, or a delivery that waited too
// long somewhere; either way it is refused, and Stripe redelivers what is genuine.
const webhookTolerance = 5 * time.Minute

// stripeAPI makes the calls the service needs.
type stripeAPI struct {
	api *client.API
}

func newStripeAPI(cfg Config, logger *slog.Logger) *stripeAPI {
	httpClient := &http.Client{Timeout: 30 * time.Second}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		httpClient = &copied
	}
	// Each call to Stripe is a client span of the request that made it, and carries
	// its traceparent.
	httpClient.Transport = tracing.Transport(httpClient.Transport)
	backend := &stripe.BackendConfig{
		HTTPClient:        httpClient,
		LeveledLogger:     stripeLogger{logger},
		MaxNetworkRetries: stripe.Int64(2),
	}
	if cfg.APIBase != "" {
		backend.URL = stripe.String(cfg.APIBase)
	}
	return &stripeAPI{api: client.New(cfg.SecretKey, stripe.NewBackendsWithConfig(backend))}
}

// createCustomer creates a user's or a team's Stripe customer. The idempotency key
// is the user's or team's: two first checkouts racing each other get the same
// customer back from Stripe instead of two (Stripe keeps keys for 24 hours, far
// longer than the window between this call and storing its answer).
func (s *stripeAPI) createCustomer(ctx context.Context, idempotencyKey string, metadata map[string]string) (string, error) {
	p := &stripe.CustomerParams{Metadata: metadata}
	p.Context = ctx
	p.SetIdempotencyKey(idempotencyKey)
	c, err := s.api.Customers.New(p)
	if err != nil {
		return "", stripeError(err, "create a customer")
	}
	return c.ID, nil
}

type checkoutRequest struct {
	UserID string
	// TeamID is the team the subscription is for, "" for the user's own.
	TeamID     string
	CustomerID string
	PriceID    string
	Tier       models.Tier
	Quantity   int
	SuccessURL string
	CancelURL  string
}

func (s *stripeAPI) createCheckoutSession(ctx context.Context, r checkoutRequest) (*models.CheckoutSession, error) {
	p := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModeSubscription)),
		Customer:          stripe.String(r.CustomerID),
		ClientReferenceID: stripe.String(r.UserID),
		SuccessURL:        stripe.String(r.SuccessURL),
		CancelURL:         stripe.String(r.CancelURL),
		LineItems: []*stripe.CheckoutSessionLineItemParams{
			{Price: stripe.String(r.PriceID), Quantity: stripe.Int64(int64(r.Quantity))},
		},
		SubscriptionData: &stripe.CheckoutSessionSubscriptionDataParams{
			Metadata: map[string]string{"user_id": r.UserID, "tier": string(r.Tier)},
		},
		Metadata: map[string]string{"user_id": r.UserID, "tier": string(r.Tier)},
	}
	if r.TeamID != "" {
		p.SubscriptionData.Metadata["team_id"] = r.TeamID
		p.Metadata["team_id"] = r.TeamID
	}
	p.Context = ctx
	cs, err := s.api.CheckoutSessions.New(p)
	if err != nil {
		return nil, stripeError(err, "create a checkout session")
	}
	return &models.CheckoutSession{ID: cs.ID, URL: cs.URL}, nil
}

func (s *stripeAPI) createPortalSession(ctx context.Context, customerID, returnURL string) (*models.PortalSession, error) {
	p := &stripe.BillingPortalSessionParams{Customer: stripe.String(customerID), ReturnURL: stripe.String(returnURL)}
	p.Context = ctx
	ps, err := s.api.BillingPortalSessions.New(p)
	if err != nil {
		return nil, stripeError(err, "create a billing portal session")
	}
	return &models.PortalSession{URL: ps.URL}, nil
}

// setCancelAtPeriodEnd asks Stripe to end the subscription at the end of its period,
// or not to, and returns the subscription as Stripe answered and the request's ID
// (the one Stripe's webhook for the change names).
func (s *stripeAPI) setCancelAtPeriodEnd(ctx context.Context, subscriptionID string, cancel bool) (*stripeSubscription, string, error) {
	p := &stripe.SubscriptionParams{CancelAtPeriodEnd: stripe.Bool(cancel)}
	p.Context = ctx
	sub, err := s.api.Subscriptions.Update(subscriptionID, p)
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode == http.StatusBadRequest && se.Code != stripe.ErrorCodeResourceMissing {
		// The subscription changed at Stripe in a way its events have not told yet
		// (e.g. it was just cancelled there): the request no longer applies.
		return nil, "", &models.Error{Code: models.CodeConflict, Message: "Stripe refused the change: " + se.Msg, Err: err}
	}
	if err != nil {
		return nil, "", stripeError(err, "update a subscription")
	}
	out, err := parseSubscription(sub.LastResponse.RawJSON)
	if err != nil {
		return nil, "", models.Internal(err, "read Stripe's subscription")
	}
	return out, sub.LastResponse.RequestID, nil
}

// getSubscription returns the subscription as Stripe has it now.
func (s *stripeAPI) getSubscription(ctx context.Context, subscriptionID string) (*stripeSubscription, error) {
	p := &stripe.SubscriptionParams{}
	p.Context = ctx
	sub, err := s.api.Subscriptions.Get(subscriptionID, p)
	if err != nil {
		return nil, stripeError(err, "fetch a subscription")
	}
	out, err := parseSubscription(sub.LastResponse.RawJSON)
	if err != nil {
		return nil, models.Internal(err, "read Stripe's subscription")
	}
	return out, nil
}

// stripeError maps a failed call: Stripe unreachable, overloaded or failing is
// UPSTREAM_UNAVAILABLE (try again); an object Stripe no longer has (deleted in the
// dashboard) is NOT_FOUND; any other refusal is Inkgraph's bug or misconfiguration,
// INTERNAL.
func stripeError(err error, action string) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.HTTPStatusCode == http.StatusTooManyRequests || se.HTTPStatusCode >= 500:
			// Stripe's side: worth trying again, below.
		case se.HTTPStatusCode == http.StatusNotFound || se.Code == stripe.ErrorCodeResourceMissing:
			return &models.Error{Code: models.CodeNotFound, Message: "Stripe no longer has this billing record: " + se.Msg, Err: err}
		default:
			return models.Internal(err, "Stripe refused to %s", action)
		}
	}
	return &models.Error{Code: models.CodeUpstreamUnavailable, Message: "Stripe is unavailable; try again shortly",
		Err: fmt.Errorf("%s: %w", action, err)}
}

// verifyEvent checks the Stripe-Signature header against the raw payload and the
// endpoint's secret, and that the signature is at most webhookTolerance old by the
// service's clock; only then is the payload read.
//
// The API version of the event is not checked (IgnoreAPIVersionMismatch): events are
// rendered in the account's (or the endpoint's) API version, which need not be the
// 2023-10-16 stripe-go v76 is built for, and refusing them would answer every event
// with 400 until Stripe disables the endpoint. Nothing here decodes events into
// stripe-go's version-specific structs: webhook.go reads the few fields it needs and
// accepts both the older and the newer (2025) places of the ones that moved.
func verifyEvent(payload []byte, header, secret string, now time.Time) (*event, error) {
	// The library's own tolerance check reads the wall clock; ours uses the
	// service's, so it is IgnoreTolerance here and checked below.
	ev, err := webhook.ConstructEventWithOptions(payload, header, secret, webhook.ConstructEventOptions{
		IgnoreTolerance:          true,
		IgnoreAPIVersionMismatch: true,
	})
	switch {
	case errors.Is(err, webhook.ErrNotSigned), errors.Is(err, webhook.ErrInvalidHeader), errors.Is(err, webhook.ErrNoValidSignature):
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrMalformedWebhook, err)
	}
	signed, err := signatureTime(header)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	if age := now.Sub(signed); age > webhookTolerance || age < -webhookTolerance {
		return nil, fmt.Errorf("%w: signed %s ago", ErrStaleWebhook, age.Round(time.Second))
	}
	if ev.ID == "" || ev.Type == "" || ev.Data == nil {
		return nil, fmt.Errorf("%w: no id, type or data", ErrMalformedWebhook)
	}
	out := &event{
		ID:       ev.ID,
		Type:     string(ev.Type),
		Created:  ev.Created,
		Object:   ev.Data.Raw,
		Previous: ev.Data.PreviousAttributes,
	}
	if ev.Request != nil {
		out.RequestID = ev.Request.ID
	}
	return out, nil
}

// signatureTime reads t= of a Stripe-Signature header ("t=1700000000,v1=…"). It must
// read the very timestamp stripe-go verified the signature with, so it parses the
// header the way stripe-go does (parts split on "," and "=", nothing trimmed) and
// refuses a header with more than one t or a part that is not key=value: with two,
// a captured old delivery could carry a fresh t for this check and the old one for
// the signature.
func signatureTime(header string) (time.Time, error) {
	var ts []string
	for _, part := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return time.Time{}, errors.New("malformed signature header")
		}
		if strings.TrimSpace(key) == "t" {
			ts = append(ts, value)
		}
	}
	if len(ts) != 1 {
		return time.Time{}, fmt.Errorf("want one timestamp, got %d", len(ts))
	}
	sec, err := strconv.ParseInt(ts[0], 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("bad timestamp %q", ts[0])
	}
	return time.Unix(sec, 0), nil
}

// stripeLogger sends stripe-go's messages to the service's logger. Failed requests
// are returned as errors and logged by whoever handles them, so stripe-go's own
// reports are warnings.
type stripeLogger struct{ l *slog.Logger }

func (s stripeLogger) Debugf(string, ...any) {}
func (s stripeLogger) Infof(string, ...any)  {}
func (s stripeLogger) Warnf(format string, v ...any) {
	s.l.Warn(fmt.Sprintf(format, v...), "component", "stripe")
}
func (s stripeLogger) Errorf(format string, v ...any) {
	s.l.Warn(fmt.Sprintf(format, v...), "component", "stripe")
}
