package playbook_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

// The metrics tests are not parallel: the collectors are the process's, and a
// sequential top-level test runs while no parallel one does, so a delta is its own.

func playbookRuns(t *testing.T, outcome string) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_llm_runs_total", "kind", metrics.KindPlaybook, "outcome", outcome)
	require.NoError(t, err)
	return v
}

func playbookTokens(t *testing.T) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_llm_tokens_streamed_total", "kind", metrics.KindPlaybook)
	require.NoError(t, err)
	return v
}

func TestRunMetrics(t *testing.T) {
	t.Run("ok", func(t *testing.T) {
		s, _ := newService(t, answering(func(llm.Request) string { return "one two three" }))
		ok, tokens := playbookRuns(t, metrics.OutcomeOK), playbookTokens(t)
		ch, err := s.Run(t.Context(), freeUser, "email_to_task", map[string]string{"email": "hi"})
		require.NoError(t, err)
		events := collect(ch)
		require.Equal(t, "DONE", string(events[len(events)-1].Type))
		require.Equal(t, ok+1, playbookRuns(t, metrics.OutcomeOK))
		calls := events[len(events)-1].Done.Calls()
		require.Equal(t, tokens+float64(3*calls), playbookTokens(t), "three deltas per LLM step")
	})

	t.Run("error", func(t *testing.T) {
		s, _ := newService(t, &provider{StreamFn: failingAfter(errors.New("connection reset"))})
		failed := playbookRuns(t, metrics.OutcomeError)
		ch, err := s.Run(t.Context(), freeUser, "email_to_task", map[string]string{"email": "hi"})
		require.NoError(t, err)
		events := collect(ch)
		require.Equal(t, "ERROR", string(events[len(events)-1].Type))
		require.Equal(t, failed+1, playbookRuns(t, metrics.OutcomeError))
	})

	t.Run("cancelled", func(t *testing.T) {
		s, _ := newService(t, answering(func(llm.Request) string { return "one two three" }))
		cancelled := playbookRuns(t, metrics.OutcomeCancelled)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		ch, err := s.Run(ctx, freeUser, "email_to_task", map[string]string{"email": "hi"})
		require.NoError(t, err)
		for e := range ch {
			if e.Type == "TOKEN" {
				cancel()
			}
		}
		require.Equal(t, cancelled+1, playbookRuns(t, metrics.OutcomeCancelled))
	})

	t.Run("quota", func(t *testing.T) {
		s, m := newService(t, echo())
		m.AllowFn = func(context.Context, string) error {
			return &models.Error{Code: models.CodeQuotaExceeded, Message: "the month's tokens are spent"}
		}
		quota := playbookRuns(t, metrics.OutcomeQuota)
		_, err := s.Run(t.Context(), freeUser, "email_to_task", map[string]string{"email": "hi"})
		require.Equal(t, models.CodeQuotaExceeded, models.ErrorCode(err))
		require.Equal(t, quota+1, playbookRuns(t, metrics.OutcomeQuota))
	})
}
