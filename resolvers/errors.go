package resolvers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/models"
)

// ErrorPresenter decides what a client sees of an error, and is the only place that
// does: a models.Error shows its code, message and field; anything else, and every
// INTERNAL error, shows only INTERNAL and the request ID, while its text goes to the log.
func ErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
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
			return gqlErr
		}
		// gqlgen's own errors (argument coercion, unknown enum values) carry a code and
		// no internals.
		var own *gqlerror.Error
		if appErr == nil && errors.As(err, &own) && own.Extensions["code"] != nil && own.Unwrap() == nil {
			return gqlErr
		}
		requestID := logging.RequestID(ctx)
		logger.ErrorContext(ctx, "internal error", "error", err.Error(), "path", gqlErr.Path.String())
		gqlErr.Message = "internal error"
		gqlErr.Extensions = map[string]any{"code": models.CodeInternal, "requestId": requestID}
		return gqlErr
	}
}

// RecoverFunc turns a panic in a resolver into an INTERNAL error, logged with its stack.
func RecoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, p any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
		return models.Internal(fmt.Errorf("panic: %v", p), "panic")
	}
}
