package events

import (
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

func reconnects(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	require.NoError(t, metrics.BusReconnects.Write(&m))
	return m.GetCounter().GetValue()
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
