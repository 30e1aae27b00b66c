package ratelimit

import (
	"context"
	"sync"
	"time"
)

// sweepEvery is how often Memory drops the keys whose TAT has passed. Such a key
// behaves exactly like a missing one, so dropping it changes no decision; it only
// bounds memory to the keys active within the last sweep interval and period.
const sweepEvery = time.Minute

// Memory is an in-process Limiter for a single server instance. It is safe for
// concurrent use.
type Memory struct {
	now func() time.Time

	mu        sync.Mutex
	tats      map[string]time.Time
	nextSweep time.Time
}

// NewMemory returns an empty Memory limiter reading the time from now (time.Now when nil).
func NewMemory(now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{now: now, tats: make(map[string]time.Time)}
}

// Allow admits or refuses one request for key under limit.
func (m *Memory) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	return m.AllowN(ctx, key, limit, 1)
}

// AllowN admits n requests for key under limit at once, or none.
func (m *Memory) AllowN(_ context.Context, key string, limit Limit, n int) (Decision, error) {
	g, err := limit.gcra()
	if err != nil {
		return Decision{}, err
	}
	if err := g.checkCost(n); err != nil {
		return Decision{}, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()

	// Read the clock under the lock so TATs are written in time order.
	now := m.now()
	m.sweep(now)

	var backlog time.Duration
	if tat, ok := m.tats[key]; ok && tat.After(now) {
		backlog = tat.Sub(now)
	}
	d, next := g.decide(backlog, n)
	if d.Allowed {
		m.tats[key] = now.Add(next)
	}
	return d, nil
}

func (m *Memory) sweep(now time.Time) {
	if now.Before(m.nextSweep) {
		return
	}
	m.nextSweep = now.Add(sweepEvery)
	for key, tat := range m.tats {
		if !tat.After(now) {
			delete(m.tats, key)
		}
	}
}

// len reports how many keys Memory remembers, for the tests of eviction.
func (m *Memory) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.tats)
}
