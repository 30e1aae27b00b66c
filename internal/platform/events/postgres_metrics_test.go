package events

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// reconnects reads the reconnect counter as /metrics shows it.
func reconnects(t *testing.T) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "inkgraph_events_bus_reconnects_total" {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatal("inkgraph_events_bus_reconnects_total is not registered")
	return 0
}

// TestPostgresCountsReconnects: each time the LISTEN connection comes back, the
// reconnect counter goes up by one. Not parallel, so no other bus of this package
// reconnects meanwhile and the delta is this bus's alone.
func TestPostgresCountsReconnects(t *testing.T) {
	url := testkit.PostgresURL(t)
	bus := newTestPostgres(t, url, nil, WithChannel(testChannel()))
	resumed := make(chan struct{}, 4)
	defer bus.OnResume(func() { resumed <- struct{}{} })()
	before := reconnects(t)

	for round := 1; round <= 2; round++ {
		pid := bus.listenerPID()
		require.NotZero(t, pid)
		terminateBackend(t, url, pid)
		select {
		case <-resumed:
		case <-time.After(15 * time.Second):
			t.Fatal("the LISTEN connection did not come back")
		}
		require.Equal(t, float64(round), reconnects(t)-before)
	}
}
