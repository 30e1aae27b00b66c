package ratelimit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// backend is one Limiter under the contract, with the means to let time pass for it.
type backend struct {
	limiter Limiter
	// tolerance is how far a reported duration may drift from the exact GCRA value:
	// zero on a fake clock, the real time a few round trips take on Redis.
	tolerance time.Duration
	// waitUntil lets at least d pass (a fake clock jumps; Redis really waits), then
	// requires cond to hold, retrying it while real time passes.
	waitUntil func(t *testing.T, d time.Duration, cond func() bool)
}

// newBackendFunc returns a fresh backend whose keys no other test sees.
type newBackendFunc func(t *testing.T) backend

// shortLimit is the limit of the time-dependent cases: short enough to wait out for real.
var shortLimit = Limit{Rate: 5, Period: time.Second}

// testLimiterContract is what every Limiter must do, wherever the budgets live.
func testLimiterContract(t *testing.T, newBackend newBackendFunc) {
	ctx := context.Background()

	t.Run("BurstThenRefused", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := PerMinute(20)
		interval := 3 * time.Second

		for i := range 20 {
			d, err := b.limiter.Allow(ctx, "user:1", limit)
			require.NoError(t, err)
			require.True(t, d.Allowed, "request %d", i+1)
			require.Equal(t, 19-i, d.Remaining, "request %d", i+1)
			require.Zero(t, d.RetryAfter)
			require.InDelta(t, time.Duration(i+1)*interval, d.ResetAfter, float64(b.tolerance), "request %d", i+1)
		}

		d, err := b.limiter.Allow(ctx, "user:1", limit)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Zero(t, d.Remaining)
		require.InDelta(t, interval, d.RetryAfter, float64(b.tolerance))
		require.InDelta(t, 20*interval, d.ResetAfter, float64(b.tolerance))
	})

	t.Run("BurstIsRateWhenUnset", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		require.Equal(t, 7, admitted(t, b.limiter, "k", Limit{Rate: 7, Period: time.Minute}, 10))
	})

	t.Run("BurstBelowRate", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := Limit{Rate: 60, Period: time.Minute, Burst: 3}
		require.Equal(t, 3, admitted(t, b.limiter, "k", limit, 10))

		d, err := b.limiter.Allow(ctx, "k", limit)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.InDelta(t, time.Second, d.RetryAfter, float64(b.tolerance))
	})

	t.Run("BurstAboveRate", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := Limit{Rate: 2, Period: time.Minute, Burst: 5}
		require.Equal(t, 5, admitted(t, b.limiter, "k", limit, 10))
	})

	t.Run("KeysAreIndependent", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := PerMinute(3)
		require.Equal(t, 3, admitted(t, b.limiter, "user:a", limit, 5))

		d, err := b.limiter.Allow(ctx, "user:b", limit)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 2, d.Remaining)

		d, err = b.limiter.Allow(ctx, "user:a", limit)
		require.NoError(t, err)
		require.False(t, d.Allowed, "user:b must not have refilled user:a")
	})

	t.Run("AllowedAgainAfterRetryAfter", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		require.Equal(t, 5, admitted(t, b.limiter, "k", shortLimit, 10))

		refused, err := b.limiter.Allow(ctx, "k", shortLimit)
		require.NoError(t, err)
		require.False(t, refused.Allowed)
		require.Positive(t, refused.RetryAfter)

		var after Decision
		b.waitUntil(t, refused.RetryAfter, func() bool {
			after, err = b.limiter.Allow(ctx, "k", shortLimit)
			require.NoError(t, err)
			return after.Allowed
		})
		require.Zero(t, after.Remaining, "one interval refills one request, not the burst")
	})

	t.Run("FullBurstAfterResetAfter", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		require.Equal(t, 5, admitted(t, b.limiter, "k", shortLimit, 10))

		refused, err := b.limiter.Allow(ctx, "k", shortLimit)
		require.NoError(t, err)
		require.False(t, refused.Allowed)

		b.waitUntil(t, refused.ResetAfter, func() bool {
			// Peek at k without spending it: a refused request changes nothing, and a
			// limit with a burst of one admits k only once its backlog is gone.
			full, err := b.limiter.Allow(ctx, "k", Limit{Rate: shortLimit.Rate, Period: shortLimit.Period, Burst: 1})
			require.NoError(t, err)
			return full.Allowed
		})
		require.Equal(t, 4, admitted(t, b.limiter, "k", shortLimit, 10), "the burst, less the peek")
	})

	t.Run("ConcurrentAllowAdmitsExactlyTheBudget", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := PerMinute(20)

		var allowed atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				d, err := b.limiter.Allow(ctx, "shared", limit)
				if err != nil {
					errs <- err
					return
				}
				if d.Allowed {
					allowed.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.EqualValues(t, 20, allowed.Load())
	})

	t.Run("AllowNAdmitsAllOrNothing", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := PerMinute(20)
		interval := 3 * time.Second

		d, err := b.limiter.AllowN(ctx, "batch", limit, 15)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Equal(t, 5, d.Remaining)
		require.Zero(t, d.RetryAfter)
		require.InDelta(t, 15*interval, d.ResetAfter, float64(b.tolerance))

		// Six do not fit into the five left: none is admitted, and nothing is spent.
		d, err = b.limiter.AllowN(ctx, "batch", limit, 6)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Equal(t, 5, d.Remaining, "a refused batch spends nothing")
		require.InDelta(t, interval, d.RetryAfter, float64(b.tolerance), "one interval frees the sixth")
		require.InDelta(t, 15*interval, d.ResetAfter, float64(b.tolerance))

		d, err = b.limiter.AllowN(ctx, "batch", limit, 5)
		require.NoError(t, err)
		require.True(t, d.Allowed)
		require.Zero(t, d.Remaining)

		d, err = b.limiter.Allow(ctx, "batch", limit)
		require.NoError(t, err)
		require.False(t, d.Allowed, "Allow draws on the budget AllowN spent")
	})

	t.Run("AllowNOfOneIsAllow", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := PerMinute(3)
		for i := range 3 {
			d, err := b.limiter.AllowN(ctx, "k", limit, 1)
			require.NoError(t, err)
			require.True(t, d.Allowed)
			require.Equal(t, 2-i, d.Remaining)
		}
		d, err := b.limiter.AllowN(ctx, "k", limit, 1)
		require.NoError(t, err)
		require.False(t, d.Allowed)
		require.Zero(t, d.Remaining)
	})

	t.Run("AllowNWaitsForItsWholeCost", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		require.Equal(t, 5, admitted(t, b.limiter, "k", shortLimit, 5))

		refused, err := b.limiter.AllowN(ctx, "k", shortLimit, 3)
		require.NoError(t, err)
		require.False(t, refused.Allowed)
		interval := shortLimit.Period / time.Duration(shortLimit.Rate)
		require.InDelta(t, 3*interval, refused.RetryAfter, float64(b.tolerance), "three intervals free three requests")

		var after Decision
		b.waitUntil(t, refused.RetryAfter, func() bool {
			after, err = b.limiter.AllowN(ctx, "k", shortLimit, 3)
			require.NoError(t, err)
			return after.Allowed
		})
		require.Zero(t, after.Remaining)
	})

	t.Run("AllowNAboveBurst", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := Limit{Rate: 60, Period: time.Minute, Burst: 10}
		d, err := b.limiter.AllowN(ctx, "k", limit, 11)
		require.ErrorIs(t, err, ErrCostAboveBurst)
		require.False(t, d.Allowed)

		d, err = b.limiter.AllowN(ctx, "k", limit, 10)
		require.NoError(t, err)
		require.True(t, d.Allowed, "the refused question spent nothing; the whole burst at once is fine")
	})

	t.Run("AllowNInvalidCost", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		for _, n := range []int{0, -1} {
			d, err := b.limiter.AllowN(ctx, "k", PerMinute(20), n)
			require.ErrorIs(t, err, ErrInvalidCost, "n=%d", n)
			require.False(t, d.Allowed)
		}
		_, err := b.limiter.AllowN(ctx, "k", Limit{Rate: 0, Period: time.Minute}, 1)
		require.ErrorIs(t, err, ErrInvalidLimit)
	})

	t.Run("ConcurrentAllowNAdmitsExactlyTheBudget", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		limit := PerMinute(20)

		var spent atomic.Int64
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := range 40 {
			cost := 1 + i%3 // 1, 2 or 3 at once
			wg.Go(func() {
				d, err := b.limiter.AllowN(ctx, "shared", limit, cost)
				if err != nil {
					errs <- err
					return
				}
				if d.Allowed {
					spent.Add(int64(cost))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		// Whatever the order, the admitted costs fill the budget without passing it, and
		// once fewer than three are left only a smaller batch could still get in.
		require.LessOrEqual(t, spent.Load(), int64(20))
		require.GreaterOrEqual(t, spent.Load(), int64(18))
	})

	t.Run("InvalidLimit", func(t *testing.T) {
		t.Parallel()
		b := newBackend(t)
		for name, limit := range map[string]Limit{
			"ZeroRate":       {Rate: 0, Period: time.Minute},
			"NegativeRate":   {Rate: -1, Period: time.Minute},
			"ZeroPeriod":     {Rate: 10},
			"NegativePeriod": {Rate: 10, Period: -time.Second},
		} {
			t.Run(name, func(t *testing.T) {
				d, err := b.limiter.Allow(ctx, "k", limit)
				require.ErrorIs(t, err, ErrInvalidLimit)
				require.False(t, d.Allowed)
			})
		}
	})
}

// admitted sends up to n requests for key at once and counts the admitted ones.
func admitted(t *testing.T, l Limiter, key string, limit Limit, n int) int {
	t.Helper()
	count := 0
	for range n {
		d, err := l.Allow(context.Background(), key, limit)
		require.NoError(t, err)
		if d.Allowed {
			count++
		}
	}
	return count
}
