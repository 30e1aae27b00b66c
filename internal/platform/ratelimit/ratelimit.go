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

var (
	// ErrInvalidLimit is returned (wrapped) when the limit has no positive Rate or Period.
	ErrInvalidLimit = errors.New("ratelimit: invalid limit")
	// ErrInvalidCost is returned (wrapped) by AllowN when n is less than one.
	ErrInvalidCost = errors.New("ratelimit: invalid cost")
	// ErrCostAboveBurst is returned (wrapped) by AllowN when n is more than the limit's
	// burst. No wait would ever admit such a request, so it is not a refusal to retry
	// later: the caller must ask for less at once.
	ErrCostAboveBurst = errors.New("ratelimit: cost above the burst")
)

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

// Decision says whether a request (of cost one, or n) may proceed now.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests of cost one would be admitted right now:
	// after this one when it was admitted, instead of it when it was refused.
	Remaining int
	// RetryAfter is how long to wait before the same request (the same cost) can be
	// admitted; zero when this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the key's full burst is available again.
	ResetAfter time.Duration
}

// Limiter admits or refuses requests for key under limit. Allow is AllowN with n = 1;
// AllowN admits a request costing n (a batch of n mutations) at once or not at all, and
// a refused request spends nothing. An error means the limiter could not decide (the
// caller picks whether to fail open or closed) or that the question was wrong
// (ErrInvalidLimit, ErrInvalidCost, ErrCostAboveBurst); it never means refused.
type Limiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
	AllowN(ctx context.Context, key string, limit Limit, n int) (Decision, error)
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

// checkCost refuses a cost no state of the key could admit.
func (g gcra) checkCost(n int) error {
	if n < 1 {
		return fmt.Errorf("%w: %d", ErrInvalidCost, n)
	}
	if int64(n) > g.burst {
		return fmt.Errorf("%w: %d requests at once, burst %d", ErrCostAboveBurst, n, g.burst)
	}
	return nil
}

// decide applies GCRA to n requests at once for a key whose TAT is backlog ahead of now
// (zero for a key that is new or idle). It returns the decision and, when admitted, the
// key's new backlog.
func (g gcra) decide(backlog time.Duration, n int) (Decision, time.Duration) {
	next := backlog + g.interval*time.Duration(n)
	allowAt := next - g.burstOffset // relative to now
	if allowAt > 0 {
		return Decision{
			Remaining:  int(max(g.burstOffset-backlog, 0) / g.interval),
			RetryAfter: allowAt,
			ResetAfter: backlog,
		}, backlog
	}
	return Decision{
		Allowed:    true,
		Remaining:  int(-allowAt / g.interval),
		ResetAfter: next,
	}, next
}
