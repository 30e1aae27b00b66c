package events

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestPostgresOnResumeAfterReconnect: a subscriber that keeps state learns when the
// bus listens again after a gap, and LISTEN is already in place when it does.
func TestPostgresOnResumeAfterReconnect(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresURL(t)
	bus := newTestPostgres(t, url, nil, WithChannel(testChannel()))
	resumed := make(chan uint32, 4)
	defer bus.OnResume(func() { resumed <- bus.listenerPID() })()
	stopped := make(chan struct{}, 4)
	bus.OnResume(func() { stopped <- struct{}{} })()

	oldPID := bus.listenerPID()
	require.NotZero(t, oldPID)
	terminateBackend(t, url, oldPID)

	select {
	case pid := <-resumed:
		require.NotZero(t, pid, "listening again when told")
		require.NotEqual(t, oldPID, pid)
	case <-time.After(15 * time.Second):
		t.Fatal("OnResume was not called after the LISTEN connection came back")
	}
	require.Empty(t, stopped, "a stopped registration is not called")
}
