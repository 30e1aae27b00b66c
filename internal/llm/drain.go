package llm

import (
	"context"
	"errors"
	"sync"

	"github.com/inkgraph/inkgraph/models"
)

// Drain lets a server that shuts down end its runs itself, each with a last event
// that tells its client the answer was cut off, before it closes their connections.
// The server puts it in every request's context (WithDrain); a run started on such a
// context (RunContext) counts until that context ends, which for a subscription is
// once its last message has gone out. Stop interrupts the runs' LLM calls, and Wait
// waits until every run's context has ended.
type Drain struct {
	stop   context.Context
	cancel context.CancelFunc

	mu   sync.Mutex
	runs int
	idle chan struct{} // closed when runs falls to zero; nil while none is waited for
}

// NewDrain returns a Drain with no runs.
func NewDrain() *Drain {
	d := &Drain{}
	d.stop, d.cancel = context.WithCancel(context.Background())
	return d
}

type drainKey struct{}

// WithDrain returns ctx carrying d, for the runs started on it.
func WithDrain(ctx context.Context, d *Drain) context.Context {
	return context.WithValue(ctx, drainKey{}, d)
}

// Stop interrupts every run, those running and those started after it.
func (d *Drain) Stop() { d.cancel() }

// Wait returns once every run's context has ended, or with ctx's error when ctx ends
// first.
func (d *Drain) Wait(ctx context.Context) error {
	d.mu.Lock()
	if d.runs == 0 {
		d.mu.Unlock()
		return nil
	}
	if d.idle == nil {
		d.idle = make(chan struct{})
	}
	idle := d.idle
	d.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Drain) join() {
	d.mu.Lock()
	d.runs++
	d.mu.Unlock()
}

func (d *Drain) leave() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.runs--
	if d.runs == 0 && d.idle != nil {
		close(d.idle)
		d.idle = nil
	}
}

// errShuttingDown is the cause of a run's calls' context when its Drain stopped it.
var errShuttingDown = errors.New("llm: the server stopped the run")

// RunContext returns the context of one run's LLM calls, for a run started on ctx:
// it carries the run's one deadline for the model's first byte (WithFirstByteDeadline),
// and it ends with ctx or, when ctx carries a Drain, as soon as the Drain stops; then
// Interrupted tells the run what to tell its client. The run counts in the Drain until
// ctx ends. release frees the context's resources; call it when the run is over.
func RunContext(ctx context.Context) (calls context.Context, release func()) {
	calls, cancel := context.WithCancelCause(WithFirstByteDeadline(ctx))
	d, ok := ctx.Value(drainKey{}).(*Drain)
	if !ok {
		return calls, func() { cancel(nil) }
	}
	d.join()
	context.AfterFunc(ctx, d.leave)
	stop := context.AfterFunc(d.stop, func() { cancel(errShuttingDown) })
	return calls, func() {
		stop()
		cancel(nil)
	}
}

// Interrupted returns the error a run whose calls' context is calls ends with when
// its Drain stopped it: retryable, since the same request will be answered by a
// server that is not shutting down. It returns nil otherwise.
func Interrupted(calls context.Context) error {
	if !errors.Is(context.Cause(calls), errShuttingDown) {
		return nil
	}
	return &models.Error{Code: models.CodeUpstreamUnavailable,
		Message: "the server is shutting down and cut the answer off: ask again", Err: errShuttingDown}
}

// ErrStopped is the cause a transport ends an operation's context with when its
// client stopped it (a graphql-ws complete, a graphql-sse DELETE), as opposed to
// going away (a dropped connection): a resumable run stops at once for the first and
// waits to be resumed after the second.
var ErrStopped = errors.New("llm: the client stopped the operation")
