package events

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestGoroutinesReturnToBaselineAfterClose is deliberately not parallel: parallel tests are
// paused while it runs, so the goroutine count is this test's alone.
func TestGoroutinesReturnToBaselineAfterClose(t *testing.T) {
	url := testkit.PostgresURL(t)
	ctx := t.Context()

	// Counted from inside an Eventually condition, like the final check, so the goroutine
	// Eventually runs its condition in is counted on both sides.
	var baseline int
	require.Eventually(t, func() bool { baseline = runtime.NumGoroutine(); return true }, time.Second, time.Millisecond)

	channel := testChannel()
	buses := []Bus{
		NewMemory(nil),
		newTestPostgres(t, url, nil, WithChannel(channel)),
		newTestPostgres(t, url, nil, WithChannel(channel)),
	}
	for _, bus := range buses {
		subCtx, cancel := context.WithCancel(ctx)
		cancelled, err := bus.Subscribe(subCtx, "doc:1")
		require.NoError(t, err)
		open, err := bus.Subscribe(ctx, "doc:1")
		require.NoError(t, err)
		require.NoError(t, bus.Publish(ctx, "doc:1", payload(1)))
		require.Equal(t, payload(1), receive(t, open))
		cancel()
		requireClosed(t, cancelled)
	}
	for _, bus := range buses {
		require.NoError(t, bus.Close())
	}

	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, 5*time.Second, 10*time.Millisecond,
		"goroutines did not return to the baseline of %d", baseline)
}
