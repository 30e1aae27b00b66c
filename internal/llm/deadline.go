package llm

import (
	"context"
	"sync"
	"time"
)

// firstByteKey is the context key of a run's firstByte.
type firstByteKey struct{}

// firstByte is one run's deadline for the model's first byte.
type firstByte struct {
	mu       sync.Mutex
	deadline time.Time // set by the run's first call
	arrived  bool      // a piece of some answer has come
}

// WithFirstByteDeadline returns a context whose calls share one deadline for the
// model's first byte. The run's first call starts it (one timeout of that call's
// client); until a piece of any answer has arrived, every later call waits only for
// what is left of it, and one that starts after it has passed fails at once without
// asking. A run that makes several calls before the model answers (a routing call,
// then the answer) thus waits one timeout for a model that does not answer, not one
// per call. Once the model has sent something, every call waits its own timeout for
// its first byte and for each silence after, as without this context.
func WithFirstByteDeadline(ctx context.Context) context.Context {
	return context.WithValue(ctx, firstByteKey{}, &firstByte{})
}

// firstByteWait is how long a call on ctx may wait for its first byte: timeout, or
// what is left of its run's deadline (zero or less when that has passed).
func firstByteWait(ctx context.Context, timeout time.Duration) time.Duration {
	fb, ok := ctx.Value(firstByteKey{}).(*firstByte)
	if !ok {
		return timeout
	}
	fb.mu.Lock()
	defer fb.mu.Unlock()
	if fb.arrived {
		return timeout
	}
	now := time.Now()
	if fb.deadline.IsZero() {
		fb.deadline = now.Add(timeout)
	}
	return min(timeout, fb.deadline.Sub(now))
}

// firstByteArrived ends the first-byte deadline of ctx's run, if it has one.
func firstByteArrived(ctx context.Context) {
	if fb, ok := ctx.Value(firstByteKey{}).(*firstByte); ok {
		fb.mu.Lock()
		fb.arrived = true
		fb.mu.Unlock()
	}
}
