package wstransport_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
)

// TestRevokedConnectionCloses: an open, acknowledged connection whose credentials are
// revoked (the Authenticator's Revoker called) closes with 4403 and the reason, and its
// running operations end; a context from elsewhere has no Revoker.
func TestRevokedConnectionCloses(t *testing.T) {
	_, ok := wstransport.Revoker(context.Background())
	require.False(t, ok)
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			revokers := make(chan func(string), 1)
			tr := &wstransport.Transport{
				Authenticate: func(ctx context.Context, _ map[string]any) (context.Context, time.Time, error) {
					revoke, ok := wstransport.Revoker(ctx)
					require.True(t, ok)
					revokers <- revoke
					return ctx, time.Time{}, nil
				},
			}
			e := newEnv(t, tr)
			c := e.connectAcked(t, p)
			c.subscribe(p, "s1", "subscription { events }", nil)
			require.Eventually(t, func() bool { return e.b.subscribers() == 1 }, waitFor, tick)

			revoke := recv(t, revokers)
			revoke("session revoked")
			revoke("again")
			msgs := c.expectClose(4403, "session revoked")
			if p.legacy {
				require.NotEmpty(t, msgs)
				require.Equal(t, "connection_error", msgs[len(msgs)-1].typ())
			}
			require.Eventually(t, func() bool { return tr.Connections() == 0 && e.b.subscribers() == 0 }, waitFor, tick)
		})
	}
}
