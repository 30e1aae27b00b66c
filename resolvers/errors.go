package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// notFoundArgument names the argument an unknown ID came in when the area's NOT_FOUND
// names none (a store's "backup not found"), so every unknown ID answers NOT_FOUND with
// extensions.field, as every other bad argument answers with its field.
func notFoundArgument(err error, argument string) error {
	var appErr *models.Error
	if !errors.As(err, &appErr) || appErr.Code != models.CodeNotFound || appErr.Field != "" {
		return err
	}
	named := *appErr
	named.Field = argument
	return &named
}

// ErrorPresenter decides what a client sees of an error, and is the only place that
// does: a models.Error shows its code, message and field; anything else, and every
// INTERNAL error, shows only INTERNAL, the request ID and (when the request has a
// trace) the trace ID, while its text goes to the log.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		if unavailable := outage(err); unavailable != nil {
			if unavailable.Code == models.CodeServiceUnavailable {
				// Not a bug: one line per failed field while it lasts, at WARN.
				logger.WarnContext(ctx, "dependency unavailable", "error", err.Error(), "path", gqlErr.Path.String())
			}
			err = unavailable
		}
		var appErr *models.Error
		if errors.As(err, &appErr) && appErr.Code != models.CodeInternal {
			gqlErr.Message = appErr.Message
			gqlErr.Extensions["code"] = appErr.Code
			if appErr.Field != "" {
				gqlErr.Extensions["field"] = appErr.Field
			}
			if appErr.RetryAfter > 0 {
				gqlErr.Extensions["retryAfter"] = int(appErr.RetryAfter.Seconds() + 0.999)
			}
			if appErr.Quota != nil {
				gqlErr.Extensions["used"] = appErr.Quota.Used
				gqlErr.Extensions["limit"] = appErr.Quota.Limit
			}
			if appErr.Seats != nil {
				gqlErr.Extensions["used"] = appErr.Seats.Used
				gqlErr.Extensions["paid"] = appErr.Seats.Paid
			}
			return gqlErr
		}
		// gqlgen's own errors (argument coercion, unknown enum values) carry a code and
		// no internals.
		var own *gqlerror.Error
		if appErr == nil && errors.As(err, &own) && own.Extensions["code"] != nil && own.Unwrap() == nil {
			return gqlErr
		}
		logger.ErrorContext(ctx, "internal error", "error", err.Error(), "path", gqlErr.Path.String())
		gqlErr.Message = "internal error"
		gqlErr.Extensions = map[string]any{"code": models.CodeInternal, "requestId": logging.RequestID(ctx)}
		if traceID := tracing.TraceID(ctx); traceID != "" {
			// The trace an operator finds it in, when the request is traced.
			gqlErr.Extensions["traceId"] = traceID
		}
		return gqlErr
	}
}

// outageRetryAfter is how long a client is told to wait when a dependency cannot be
// reached: about what a PostgreSQL or Redis restart or fail-over takes, and short
// enough that a client retrying at that pace sees the recovery soon after it happens.
const outageRetryAfter = 5 * time.Second

// outage returns what err should show when a dependency could not be reached
// (database.Unreachable decides): SERVICE_UNAVAILABLE with retryAfter in place of an
// INTERNAL (or unknown) error, and UPSTREAM_UNAVAILABLE (Stripe, an LLM) given a
// retryAfter. Nil when err is not about an unreachable dependency, or says when to retry
// already.
func outage(err error) *models.Error {
	if !database.Unreachable(err) {
		return nil
	}
	var appErr *models.Error
	switch {
	case !errors.As(err, &appErr) || appErr.Code == models.CodeInternal:
		return &models.Error{
			Code:       models.CodeServiceUnavailable,
			Message:    "the service is temporarily unavailable: try again shortly",
			RetryAfter: outageRetryAfter,
			Err:        err,
		}
	case appErr.Code == models.CodeUpstreamUnavailable && appErr.RetryAfter == 0:
		retryable := *appErr
		retryable.RetryAfter = outageRetryAfter
		return &retryable
	default:
		return nil
	}
}

// RecoverFunc turns a panic in a resolver into an INTERNAL error, logged with its stack.
func RecoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return models.Internal(fmt.Errorf("panic: %v", p), "panic")
	}
}
