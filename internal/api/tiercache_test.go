package api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

func TestTierCache(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	lookups := map[string]int{}
	tiers := map[string]models.Tier{"u1": models.TierFree}
	fail := false
	c := newTierCache(func(_ context.Context, userID string) (models.Tier, int, error) {
		lookups[userID]++
		if fail {
			return "", 0, errors.New("database unreachable")
		}
		return tiers[userID], 2, nil
	}, clock)

	get := func(id string) (models.Tier, int) {
		t.Helper()
		tier, seats, err := c.get(ctx, id)
		require.NoError(t, err)
		return tier, seats
	}

	tier, seats := get("u1")
	require.Equal(t, models.TierFree, tier)
	require.Equal(t, 2, seats)
	tiers["u1"] = models.TierPro
	advance(tierCacheTTL - time.Nanosecond)
	tier, _ = get("u1")
	require.Equal(t, models.TierFree, tier, "fresh: no lookup")
	require.Equal(t, 1, lookups["u1"])
	advance(time.Nanosecond)
	tier, _ = get("u1")
	require.Equal(t, models.TierPro, tier, "stale after the TTL")
	require.Equal(t, 2, lookups["u1"])

	// Failures are not remembered.
	fail = true
	advance(tierCacheTTL)
	_, _, err := c.get(ctx, "u1")
	require.Error(t, err)
	fail = false
	tier, _ = get("u1")
	require.Equal(t, models.TierPro, tier)
	require.Equal(t, 4, lookups["u1"])

	// Bounded: stale entries go first; when every entry is fresh it starts over.
	advance(tierCacheTTL)
	for i := range tierCacheSize {
		get(fmt.Sprint("user-", i))
	}
	require.Len(t, c.entries, tierCacheSize, "u1 was stale and made room")
	get("one-more")
	require.Len(t, c.entries, 1)
}
