package llm_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

func TestDrain(t *testing.T) {
	t.Parallel()
	// Without a drain, a run's calls end with its context alone.
	calls, release := llm.RunContext(t.Context())
	require.NoError(t, calls.Err())
	release()
	require.Error(t, calls.Err())
	require.NoError(t, llm.Interrupted(calls))

	d := llm.NewDrain()
	require.NoError(t, d.Wait(t.Context()), "no runs")
	ctx, cancel := context.WithCancel(llm.WithDrain(t.Context(), d))
	defer cancel()
	calls, release = llm.RunContext(ctx)
	defer release()
	require.NoError(t, llm.Interrupted(calls))

	d.Stop()
	<-calls.Done()
	require.NoError(t, ctx.Err(), "the client is still there to be told")
	err := llm.Interrupted(calls)
	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err), "retryable")
	require.Contains(t, models.ErrorMessage(err), "shutting down")

	// A run started after Stop is interrupted at once.
	late, releaseLate := llm.RunContext(ctx)
	defer releaseLate()
	<-late.Done()
	require.Error(t, llm.Interrupted(late))

	// The runs count until their contexts end.
	ended, endNow := context.WithCancel(t.Context())
	endNow()
	require.ErrorIs(t, d.Wait(ended), context.Canceled, "two runs' contexts are open")
	cancel()
	require.NoError(t, d.Wait(t.Context()))
}
