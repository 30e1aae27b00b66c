// Package ratelimit owns per-key request budgets: how many GraphQL operations a caller
// (a user, an API key, a team seat) may run per period. It implements the generic cell
// rate algorithm (GCRA) twice with the same semantics: Memory, inside one process, and
// Redis, whose budget every server instance sharing the Redis server draws from.
//
// GCRA keeps one timestamp per key, the theoretical arrival time (TAT): when the key's
// bucket would be empty again had every admitted request arrived at the steady rate.
// A request is admitted when it would not push the TAT further than Burst emission
// intervals ahead of now. One number per key, no background refill, and a key whose
// TAT is in the past is the same as a key never seen, so it can be forgotten.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrInvalidLimit is returned (wrapped) by Allow when the limit has no positive Rate or Period.
var ErrInvalidLimit = errors.New("ratelimit: invalid limit")

// Limit is a budget: Rate requests per Period, with bursts up to Burst (Burst <= 0
// means Burst = Rate). A key should always be checked against the same Limit: the
// state kept per key is one timestamp, which another Limit would read differently.
type Limit struct {
	Rate   int
	Period time.Duration
	Burst  int
}

// PerMinute is n requests per minute with a burst of n.
func PerMinute(n int) Limit {
	return Limit{Rate: n, Period: time.Minute, Burst: n}
}

// Decision says whether one request may proceed now.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests would be admitted right now after this one.
	Remaining int
	// RetryAfter is how long to wait before the next request can be admitted; zero when
	// this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's full burst is available again.
	ResetAfter time.Duration
}

// Limiter admits or refuses one request for key under limit. Callers call Allow once
// per operation; an error means the limiter could not decide (the caller picks whether
// to fail open or closed), never that the request was refused.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

var (
	_ Limiter = (*Memory)(nil)
	_ Limiter = (*Redis)(nil)
)

// gcra is a Limit turned into the two durations the algorithm works with.
type gcra struct {
	interval    time.Duration // T: one request's share of the period
	burst       int64
	burstOffset time.Duration // T*Burst: how far ahead of now the TAT may get
}

func (l Limit) gcra() (gcra, error) {
	if l.Rate <= 0 || l.Period <= 0 {
		return gcra{}, fmt.Errorf("%w: rate %d per %s", ErrInvalidLimit, l.Rate, l.Period)
	}
	burst := l.Burst
	if burst <= 0 {
		burst = l.Rate
	}
	interval := max(l.Period/time.Duration(l.Rate), 1)
	return gcra{interval: interval, burst: int64(burst), burstOffset: interval * time.Duration(burst)}, nil
}

// decide applies GCRA to a key whose TAT is backlog ahead of now (zero for a key that
// is new or idle). It returns the decision and, when admitted, the key's new backlog.
func (g gcra) decide(backlog time.Duration) (Decision, time.Duration) {
	next := backlog + g.interval
	allowAt := next - g.burstOffset // relative to now
	if allowAt > 0 {
		return Decision{RetryAfter: allowAt, ResetAfter: backlog}, backlog
	}
	return Decision{
		Allowed:    true,
		Remaining:  int(-allowAt / g.interval),
		ResetAfter: next,
	}, next
}
