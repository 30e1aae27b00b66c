package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// clockStart is where each test's clock starts (testkit.Clock; only the test moves it).
var clockStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	testLimiterContract(t, func(t *testing.T) backend {
		clock := testkit.NewClock(clockStart)
		return backend{
			limiter: NewMemory(clock.Now),
			waitUntil: func(t *testing.T, d time.Duration, cond func() bool) {
				clock.Add(d)
				require.True(t, cond())
			},
		}
	})
}

func TestMemoryRetryAfterIsExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(clockStart)
	m := NewMemory(clock.Now)
	limit := PerMinute(20)

	require.Equal(t, 20, admitted(t, m, "k", limit, 20))
	refused, err := m.Allow(ctx, "k", limit)
	require.NoError(t, err)
	require.Equal(t, Decision{RetryAfter: 3 * time.Second, ResetAfter: time.Minute}, refused)

	clock.Add(refused.RetryAfter - time.Nanosecond)
	d, err := m.Allow(ctx, "k", limit)
	require.NoError(t, err)
	require.False(t, d.Allowed, "a nanosecond early")
	require.Equal(t, time.Nanosecond, d.RetryAfter)

	clock.Add(time.Nanosecond)
	d, err = m.Allow(ctx, "k", limit)
	require.NoError(t, err)
	require.Equal(t, Decision{Allowed: true, Remaining: 0, ResetAfter: time.Minute}, d)
}

func TestMemorySteadyRateIsNeverRefused(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(clockStart)
	m := NewMemory(clock.Now)
	limit := PerMinute(60)

	for i := range 500 {
		d, err := m.Allow(context.Background(), "k", limit)
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d", i)
		require.Equal(t, 59, d.Remaining, "one request per interval never eats into the burst")
		clock.Add(time.Second)
	}
}

func TestMemoryClockGoingBackwards(t *testing.T) {
	t.Parallel()
	clock := testkit.NewClock(clockStart)
	m := NewMemory(clock.Now)
	limit := PerMinute(2)

	require.Equal(t, 2, admitted(t, m, "k", limit, 2))
	clock.Add(-time.Hour)
	d, err := m.Allow(context.Background(), "k", limit)
	require.NoError(t, err)
	require.False(t, d.Allowed, "a clock step back must not hand out a fresh burst")
}

func TestMemoryForgetsIdleKeys(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(clockStart)
	m := NewMemory(clock.Now)

	for i := range 1000 {
		_, err := m.Allow(ctx, fmt.Sprintf("user:%d", i), PerMinute(20))
		require.NoError(t, err)
	}
	_, err := m.Allow(ctx, "busy", Limit{Rate: 1, Period: time.Hour})
	require.NoError(t, err)
	require.Equal(t, 1001, m.len())

	// Every user's TAT (3s ahead) has passed; the busy key's (1h ahead) has not.
	clock.Add(sweepEvery)
	_, err = m.Allow(ctx, "newcomer", PerMinute(20))
	require.NoError(t, err)
	require.Equal(t, 2, m.len(), "busy and newcomer remain")

	d, err := m.Allow(ctx, "busy", Limit{Rate: 1, Period: time.Hour})
	require.NoError(t, err)
	require.False(t, d.Allowed, "a key still within its period is not forgotten")

	d, err = m.Allow(ctx, "user:7", PerMinute(20))
	require.NoError(t, err)
	require.Equal(t, 19, d.Remaining, "a forgotten key starts with its full burst")
}

func TestPerMinute(t *testing.T) {
	t.Parallel()
	require.Equal(t, Limit{Rate: 20, Period: time.Minute, Burst: 20}, PerMinute(20))
}

func TestMemoryAllowNIsExact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testkit.NewClock(clockStart)
	m := NewMemory(clock.Now)
	limit := PerMinute(20)

	d, err := m.AllowN(ctx, "k", limit, 18)
	require.NoError(t, err)
	require.Equal(t, Decision{Allowed: true, Remaining: 2, ResetAfter: 54 * time.Second}, d)

	refused, err := m.AllowN(ctx, "k", limit, 4)
	require.NoError(t, err)
	require.Equal(t, Decision{Remaining: 2, RetryAfter: 6 * time.Second, ResetAfter: 54 * time.Second}, refused)

	clock.Add(refused.RetryAfter)
	d, err = m.AllowN(ctx, "k", limit, 4)
	require.NoError(t, err)
	require.Equal(t, Decision{Allowed: true, Remaining: 0, ResetAfter: time.Minute}, d)
}
