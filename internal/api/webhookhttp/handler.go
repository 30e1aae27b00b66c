// Package webhookhttp serves Stripe's webhooks over HTTP (POST /webhooks/stripe): it
// reads the raw body, which the signature covers, hands it to the billing service
// and turns the outcome into the status Stripe acts on. It is the only part of
// billing that knows HTTP.
package webhookhttp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
)

// MaxBody is the largest body read. Stripe's events are a few kilobytes, and the
// largest (an invoice with many lines) stay well below a mebibyte.
const MaxBody = 1 << 20

// processTimeout bounds the work on one delivery. It runs to the end even when Stripe
// hangs up meanwhile, so a delivery it gave up on is not half done.
const processTimeout = 20 * time.Second

// Webhooks processes one delivery and says what it did; *billing.Service satisfies it.
type Webhooks interface {
	ProcessWebhook(ctx context.Context, payload []byte, signatureHeader string) (billing.WebhookResult, error)
}

// Handler answers Stripe: 200 once the event is processed (or was before), 400 when
// the delivery is refused (bad or stale signature, not an event: Stripe's retry of
// the same bytes cannot succeed), 413 for an oversized body, and 500 when processing
// failed in a way a retry can fix, so that Stripe retries. Every delivery is counted
// in metrics.WebhookEvents by event type and result.
func Handler(w Webhooks, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			rw.Header().Set("Allow", http.MethodPost)
			http.Error(rw, "use POST", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, MaxBody))
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			count(billing.WebhookResult{Result: billing.WebhookRejected}, nil)
			http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
			return
		case err != nil:
			count(billing.WebhookResult{Result: billing.WebhookRejected}, nil)
			http.Error(rw, "could not read the body", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), processTimeout)
		defer cancel()
		res, err := w.ProcessWebhook(ctx, body, r.Header.Get("Stripe-Signature"))
		count(res, err)
		switch {
		case errors.Is(err, billing.ErrWebhookRejected):
			logger.WarnContext(r.Context(), "stripe webhook refused", "error", err)
			http.Error(rw, err.Error(), http.StatusBadRequest)
		case err != nil:
			logger.ErrorContext(r.Context(), "stripe webhook failed; Stripe will retry", "error", err)
			http.Error(rw, "processing failed; retry later", http.StatusInternalServerError)
		default:
			rw.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(rw, `{"received":true}`+"\n")
		}
	})
}

// count adds one delivery to metrics.WebhookEvents. The result follows the answer
// Stripe gets (err decides it, as it decides the status) and stays in its fixed set;
// the type is billing's (one it acts on, or billing.OtherEventType), "other" when
// none was read.
func count(res billing.WebhookResult, err error) {
	if res.Type == "" {
		res.Type = billing.OtherEventType
	}
	switch {
	case errors.Is(err, billing.ErrWebhookRejected):
		res.Result = billing.WebhookRejected
	case err != nil:
		res.Result = billing.WebhookFailed
	}
	switch res.Result {
	case billing.WebhookApplied, billing.WebhookDuplicate, billing.WebhookIgnored, billing.WebhookRejected:
	default:
		res.Result = billing.WebhookFailed
	}
	metrics.WebhookEvents.WithLabelValues(res.Type, res.Result).Inc()
}
