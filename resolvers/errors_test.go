package resolvers_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/models"
	"github.com/inkgraph/inkgraph/resolvers"
)

func TestErrorPresenter(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	present := resolvers.ErrorPresenter(logging.New(&logs, 0))
	ctx := logging.WithRequestID(context.Background(), "req-42")

	for _, tc := range []struct {
		name      string
		err       error
		message   string
		ext       map[string]any
		loggedAll string
	}{
		{"application error", models.InvalidInput("email", "email is required"), "email is required",
			map[string]any{"code": "BAD_USER_INPUT", "field": "email"}, ""},
		{"wrapped application error", fmt.Errorf("register: %w", models.Errorf(models.CodeConflict, "taken")), "taken",
			map[string]any{"code": "CONFLICT"}, ""},
		{"rate limited", &models.Error{Code: models.CodeRateLimited, Message: "slow down", RetryAfter: 1500e6}, "slow down",
			map[string]any{"code": "RATE_LIMITED", "retryAfter": 2}, ""},
		{"quota exceeded", &models.Error{Code: models.CodeQuotaExceeded, Message: "full", Quota: &models.Quota{Used: 7, Limit: 5}}, "full",
			map[string]any{"code": "QUOTA_EXCEEDED", "used": int64(7), "limit": int64(5)}, ""},
		{"plain error is masked", errors.New("pq: password authentication failed for db secret"), "internal error",
			map[string]any{"code": "INTERNAL", "requestId": "req-42"}, "password authentication failed"},
		{"internal application error is masked", models.Internal(errors.New("disk on fire"), "save"), "internal error",
			map[string]any{"code": "INTERNAL", "requestId": "req-42"}, "disk on fire"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.Reset()
			got := present(ctx, tc.err)
			require.Equal(t, tc.message, got.Message)
			require.Equal(t, tc.ext, got.Extensions)
			if tc.loggedAll != "" {
				require.Contains(t, logs.String(), tc.loggedAll, "the text goes to the log")
				require.Contains(t, logs.String(), `"request_id":"req-42"`)
			} else {
				require.Empty(t, logs.String())
			}
		})
	}
}

func TestRecoverFunc(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	err := resolvers.RecoverFunc(logging.New(&logs, 0))(context.Background(), "boom")
	require.Equal(t, models.CodeInternal, models.ErrorCode(err))
	require.Contains(t, logs.String(), "boom")
	require.Contains(t, logs.String(), "stack")
}

func TestErrorPresenterTraceID(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	present := resolvers.ErrorPresenter(logging.New(&logs, 0))
	traceID, err := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	require.NoError(t, err)
	spanID, err := trace.SpanIDFromHex("00f067aa0ba902b7")
	require.NoError(t, err)
	ctx := trace.ContextWithSpanContext(logging.WithRequestID(context.Background(), "req-7"),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID, TraceFlags: trace.FlagsSampled}))

	got := present(ctx, errors.New("disk on fire"))
	require.Equal(t, map[string]any{"code": "INTERNAL", "requestId": "req-7", "traceId": traceID.String()}, got.Extensions)
	require.Contains(t, logs.String(), `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`, "the log line carries it too")

	// An application error shows no IDs; without a trace, no traceId.
	require.Equal(t, map[string]any{"code": "CONFLICT"}, present(ctx, models.Errorf(models.CodeConflict, "taken")).Extensions)
	require.NotContains(t, present(logging.WithRequestID(context.Background(), "req-8"), errors.New("x")).Extensions, "traceId")
}
