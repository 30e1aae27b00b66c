package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/wire"
)

// TestLimitsAppendTheirJSON: the limits every first response carries write the JSON
// json.Marshal gives them, byte for byte.
func TestLimitsAppendTheirJSON(t *testing.T) {
	t.Parallel()
	values := []wire.Appender{
		&costExtension{Complexity: 12, Limit: 1000},
		&costExtension{Complexity: 0, Limit: -1},
		&rateLimitExtension{Limit: 120, Cost: 3, Remaining: 0, ResetAt: time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)},
		&rateLimitExtension{Limit: 1, Cost: 1, Remaining: -2, ResetAt: time.Date(2099, 1, 2, 3, 4, 5, 600, time.UTC)},
		(*costExtension)(nil),
		(*rateLimitExtension)(nil),
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		require.NoError(t, err)
		require.Equal(t, string(want), string(v.AppendJSON([]byte("x")))[1:])
	}
}
