package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// testPrefix keeps each test's keys apart from every other test's on the shared server.
func testPrefix() string {
	return "test:ratelimit:" + testkit.RandomHex(8) + ":"
}

func TestRedisContract(t *testing.T) {
	t.Parallel()
	testkit.Redis(t) // skip the whole suite at once when Redis is missing
	testLimiterContract(t, func(t *testing.T) backend {
		return backend{
			limiter:   NewRedis(testkit.Redis(t), testPrefix()),
			tolerance: 250 * time.Millisecond,
			waitUntil: func(t *testing.T, d time.Duration, cond func() bool) {
				require.Eventually(t, cond, d+5*time.Second, 10*time.Millisecond)
			},
		}
	})
}

func TestRedisInstancesShareOneBudget(t *testing.T) {
	t.Parallel()
	prefix := testPrefix()
	servers := []*Redis{
		NewRedis(testkit.Redis(t), prefix),
		NewRedis(testkit.Redis(t), prefix),
	}
	ctx := context.Background()

	var allowed [2]atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 40 {
		server := i % 2
		wg.Go(func() {
			d, err := servers[server].Allow(ctx, "team:1", PerMinute(20))
			if err != nil {
				errs <- err
				return
			}
			if d.Allowed {
				allowed[server].Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 20, allowed[0].Load()+allowed[1].Load())

	for _, s := range servers {
		d, err := s.Allow(ctx, "team:1", PerMinute(20))
		require.NoError(t, err)
		require.False(t, d.Allowed)
	}
}

func TestRedisKeyExpiresWithItsTAT(t *testing.T) {
	t.Parallel()
	client := testkit.Redis(t)
	prefix := testPrefix()
	r := NewRedis(client, prefix)
	ctx := context.Background()

	d, err := r.Allow(ctx, "k", PerMinute(20))
	require.NoError(t, err)
	require.True(t, d.Allowed)

	ttl, err := client.PTTL(ctx, prefix+"k").Result()
	require.NoError(t, err)
	require.Positive(t, ttl)
	require.LessOrEqual(t, ttl, d.ResetAfter+time.Millisecond)

	// A refused request writes nothing, so it cannot extend the key's life.
	require.Equal(t, 19, admitted(t, r, "k", PerMinute(20), 25))
	before, err := client.PTTL(ctx, prefix+"k").Result()
	require.NoError(t, err)
	_, err = r.Allow(ctx, "k", PerMinute(20))
	require.NoError(t, err)
	after, err := client.PTTL(ctx, prefix+"k").Result()
	require.NoError(t, err)
	require.LessOrEqual(t, after, before)
}

func TestRedisError(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = client.Close() })
	d, err := NewRedis(client, testPrefix()).Allow(context.Background(), "k", PerMinute(20))
	require.ErrorContains(t, err, "ratelimit: redis allow")
	require.False(t, d.Allowed)
}
