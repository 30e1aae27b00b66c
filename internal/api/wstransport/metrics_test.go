package wstransport_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
)

// openSockets reads the open sockets gauge of protocol.
func openSockets(t *testing.T, protocol string) float64 {
	t.Helper()
	v, err := metrics.Read("inkgraph_websocket_connections", "protocol", protocol)
	require.NoError(t, err)
	return v
}

// TestOpenSocketsMetric: the gauge counts each open socket under its subprotocol
// and goes back down when it closes. Not parallel: the gauge is the process's, and a
// sequential top-level test runs while no parallel one does.
func TestOpenSocketsMetric(t *testing.T) {
	e := newEnv(t, &wstransport.Transport{Authenticate: tokenAuth(0)})
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			before := openSockets(t, p.name)
			a, b := e.connectAcked(t, p), e.connectAcked(t, p)
			require.Equal(t, before+2, openSockets(t, p.name), "counted from the upgrade")
			_ = a.ws.Close()
			require.Eventually(t, func() bool { return openSockets(t, p.name) == before+1 }, waitFor, 5*time.Millisecond,
				"a closed socket is no longer counted")
			_ = b.ws.Close()
			require.Eventually(t, func() bool { return openSockets(t, p.name) == before }, waitFor, 5*time.Millisecond)
		})
	}
}
