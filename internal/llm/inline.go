package llm

import "context"

// Inline lets a transport run a streamed run on the goroutine that delivers the
// run's events, instead of the run having a goroutine of its own that hands each
// event over a channel to the transport's. A held-open chat subscription then costs
// one goroutine stack, not two.
//
// The transport puts an Inline in the context it resolves a subscription with
// (WithInline) and opens it around the resolution; a run started within it may
// Adopt the context (claim the Inline) and return a channel of capacity one without
// starting a goroutine. Once resolution is over, the transport closes the Inline: if
// a run adopted it, the transport calls the run's job on its own goroutine, and the
// run, after putting each event in its channel, calls deliver, with which the
// transport reads that event through its usual path and sends it. A run that was not
// adopted (no Inline, resolved outside its window, or already claimed) runs on its
// own goroutine as before. An Inline is used by one goroutine at a time.
type Inline struct {
	open    bool
	job     func()
	deliver func() bool
	release func()
}

type inlineKey struct{}

// WithInline returns ctx carrying in.
func WithInline(ctx context.Context, in *Inline) context.Context {
	return context.WithValue(ctx, inlineKey{}, in)
}

// Open lets a run adopt in, until Close.
func (in *Inline) Open() { in.open = true }

// Close ends the window in which a run may adopt in, and returns the job of the run
// that did (nil when none did). The transport must then call SetDeliver and run the
// job to its end.
func (in *Inline) Close() (job func()) {
	in.open = false
	return in.job
}

// SetDeliver sets what the adopted run's deliver calls: the transport reads the
// event the run has just put in its channel and sends it, and reports false when the
// client is gone (having ended the run's context).
func (in *Inline) SetDeliver(deliver func() bool) { in.deliver = deliver }

// SetRelease sets what Release calls: the transport stops waiting for the adopted
// run, which goes on, on its goroutine, without its client.
func (in *Inline) SetRelease(release func()) { in.release = release }

// Release tells the transport that the run adopting the Inline of ctx goes on without
// its client (a resumable run whose connection dropped): the transport may finish the
// connection without waiting for the run. It does nothing for a run not adopted.
func Release(ctx context.Context) {
	if in, _ := ctx.Value(inlineKey{}).(*Inline); in != nil && in.job != nil && in.release != nil {
		in.release()
	}
}

// Adopt claims the Inline of ctx, if it carries an open one not yet claimed, for a
// run whose job is job. It returns the function the run calls after putting each
// event in its channel (of capacity one): it returns once the transport has taken the
// event, false when the event can no longer go out. When ok is false, the run must
// run on a goroutine of its own.
func Adopt(ctx context.Context, job func()) (deliver func() bool, ok bool) {
	in, _ := ctx.Value(inlineKey{}).(*Inline)
	if in == nil || !in.open || in.job != nil {
		return nil, false
	}
	in.job = job
	return func() bool { return in.deliver() }, true
}
