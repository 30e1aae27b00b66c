package auth

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRevocationsAreBounded: the set forgets a session once every access token of it
// has expired (the token lifetime plus clockSkew after its revocation; swept every
// quarter of that), so it holds only the sessions revoked within that window, and
// refuses to learn older ones.
func TestRevocationsAreBounded(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	r := newRevocations(15*time.Minute, clock)

	for i := range 100 {
		r.add(fmt.Sprintf("old-%d", i), clock())
	}
	require.Equal(t, 100, r.len())
	advance(15*time.Minute + clockSkew)
	r.add("new", clock())
	require.True(t, r.Revoked("old-0"), "still within the window")
	advance((15*time.Minute + clockSkew) / 4)
	r.add("newer", clock())
	require.Equal(t, 2, r.len(), "the sessions whose tokens have all expired are forgotten")
	require.False(t, r.Revoked("old-0"))
	require.True(t, r.Revoked("new"))

	r.add("ancient", clock().Add(-time.Hour))
	require.False(t, r.Revoked("ancient"), "a revocation older than any live token is not kept")
}

// BenchmarkRevocationsCheck is what every authenticated request pays for the
// revocation check: a map lookup under a read lock, with 10,000 sessions revoked
// within the window, from every core at once.
func BenchmarkRevocationsCheck(b *testing.B) {
	now := time.Now()
	r := newRevocations(15*time.Minute, func() time.Time { return now })
	for i := range 10_000 {
		r.add(fmt.Sprintf("session-%d", i), now)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r.Revoked("live-session") {
				b.Fatal("not revoked")
			}
		}
	})
}
