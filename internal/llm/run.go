package llm

import (
	"context"
	"iter"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/llm/sanitize"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

// Result is what Run read of one streamed completion.
type Result struct {
	// Text is the answer as passed on: sanitized when Run was given secrets.
	Text string
	// Done is the stream's last chunk; nil when Run returns an error.
	Done *Done
	// Usage is the call's usage whatever became of it: one call, with the tokens the
	// provider reported, or an estimate when the answer ended without a report
	// (abandoned, broken off). A run must be charged for what it spent, or a client
	// that always leaves before the end would never pay.
	Usage models.Usage
	// Streamed is how many of the model's text deltas were passed on to send (none
	// when send is nil): an OpenAI-compatible stream sends about one token a delta.
	// It is what a run counts in the streamed-tokens metric.
	Streamed int
}

// Run is the one engine that runs a streamed completion, for chat and playbooks alike:
// it streams req from p, passes each piece of the answer through secrets (nil passes
// the text as it is) to send (nil sends nothing), and returns when the answer is
// complete, when send refuses a piece (the caller stopped reading) or when ctx ends;
// in the last two cases the upstream request is cancelled before Run returns.
//
// The error is ctx's when ctx ended (context.Canceled when send refused first), the provider's when it refused to
// start, and otherwise UPSTREAM_UNAVAILABLE: an answer that had begun and broke off or
// ended without its last chunk may succeed if asked again. The Result, its usage
// above all, is filled in every case. req is read until Run returns: it must not
// change meanwhile.
//
// What Run holds while the model answers is in a call on the heap, not in its frame
// or relay's: a held chat's goroutine waits in the provider below them, and the
// runtime halves a waiting goroutine's 16 KiB stack only while less than a quarter of
// it is in use.
func Run(ctx context.Context, p Provider, req *Request, secrets *sanitize.Set, send func(string) bool) (res *Result, err error) {
	c := &call{req: req}
	defer func() { c.end(err) }()
	if err := c.open(ctx, p); err != nil {
		return &c.res, err
	}
	c.relay(secrets, send)
	return &c.res, c.outcome()
}

// call is one streamed completion under way.
type call struct {
	req    *Request
	info   Info
	parent context.Context // Run's
	ctx    context.Context // the call's: cancelled when Run returns
	cancel context.CancelFunc
	span   trace.Span
	start  time.Time
	chunks iter.Seq[Chunk]

	text strings.Builder // the text passed on
	last Chunk           // the stream's last chunk; zero when it ended without one
	rel  relayed
	res  Result
}

// open starts the call's span and the provider's stream.
func (c *call) open(ctx context.Context, p Provider) error {
	c.info = p.Info()
	ctx, c.span = startSpan(ctx, c.info)
	c.parent = ctx
	ctx, c.cancel = context.WithCancel(ctx)
	c.ctx = ctx
	c.start = time.Now()
	var err error
	if c.chunks, err = p.Stream(ctx, *c.req); err != nil {
		c.res = Result{Usage: models.Usage{Calls: 1}}
	}
	return err
}

// end ends the upstream request, if it was made, and the span, and lets go of what
// the returned Result, which points into c, need not keep: the stream, the contexts,
// the span and the request.
func (c *call) end(err error) {
	if c.cancel != nil {
		c.cancel()
	}
	if c.span != nil {
		endSpan(c.span, c.res.Usage, err)
	}
	c.req, c.chunks, c.parent, c.ctx, c.cancel, c.span = nil, nil, nil, nil, nil, nil
}

// startSpan starts a call's llm.stream span within a trace: one span per call, the
// provider's HTTP client span (if any) beneath it. A call outside any trace (tracing
// off, no traceparent) holds no span while it streams.
func startSpan(ctx context.Context, info Info) (context.Context, trace.Span) {
	span := trace.SpanFromContext(ctx)
	if !span.SpanContext().IsValid() {
		return ctx, span
	}
	return tracing.Tracer().Start(ctx, "llm.stream", trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.provider.name", info.Provider), attribute.String("gen_ai.request.model", info.Model)))
}

// endSpan ends a call's span with its usage and, when it failed, its error code.
func endSpan(span trace.Span, u models.Usage, err error) {
	if span.IsRecording() {
		if err != nil {
			span.SetStatus(codes.Error, models.ErrorCode(err))
		}
		span.SetAttributes(attribute.Int("gen_ai.usage.input_tokens", u.PromptTokens),
			attribute.Int("gen_ai.usage.output_tokens", u.CompletionTokens))
	}
	span.End()
}

// outcome fills in the call's result once the stream is over, the first-token metric
// observed, the usage (reported, or estimated), and returns the error the way the
// stream ended says.
func (c *call) outcome() error {
	if !c.rel.first.IsZero() {
		metrics.FirstToken.WithLabelValues(c.info.Provider).Observe(c.rel.first.Sub(c.start).Seconds())
	}
	text := c.text.String()
	c.res = Result{Text: text, Streamed: c.rel.streamed}
	u := Estimate(*c.req, text)
	if c.last.Done != nil && c.last.Done.Usage != nil {
		u = *c.last.Done.Usage
	}
	u.Calls = 1
	c.res.Usage = u
	switch {
	case c.rel.stopped:
		if err := c.parent.Err(); err != nil {
			return err
		}
		return context.Canceled
	case c.last.Err != nil:
		if models.ErrorCode(c.last.Err) != models.CodeUpstreamUnavailable {
			// The answer had begun: whatever broke it, asking again may work.
			return &models.Error{Code: models.CodeUpstreamUnavailable, Message: "the model's answer broke off", Err: c.last.Err}
		}
		return c.last.Err
	case c.last.Done == nil:
		if ctxErr := c.ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		return models.Errorf(models.CodeUpstreamUnavailable, "the model's answer ended early")
	}
	c.res.Done = c.last.Done
	return nil
}

// relayed is what relay saw besides the text and the last chunk.
type relayed struct {
	stopped  bool      // send refused a piece
	streamed int       // text deltas passed on to send
	first    time.Time // when the first text delta or complete answer arrived; zero if none did
}

// relay reads the model's stream to its end, through a fresh Stream of secrets, and
// hands each non-empty sanitized piece to send, keeping the text passed on and the
// stream's last chunk; it stops when send refuses a piece (which ends the stream).
func (c *call) relay(secrets *sanitize.Set, send func(string) bool) {
	var clean *sanitize.Stream
	if secrets != nil {
		clean = secrets.NewStream()
	}
	for ch := range c.chunks {
		if c.rel.first.IsZero() && ch.Err == nil {
			// A text delta, or an answer that is all tool calls: the model's first token.
			c.rel.first = time.Now()
		}
		switch {
		case ch.Err != nil, ch.Done != nil:
			c.last = ch
		case clean == nil:
			if !c.pass(ch.Text, send) {
				return
			}
		default:
			if !c.pass(clean.Write(ch.Text), send) {
				return
			}
		}
		if ch.Text != "" && send != nil {
			c.rel.streamed++
		}
	}
	if clean != nil {
		c.pass(clean.Flush(), send)
	}
}

// pass adds piece to the text passed on and hands it to send; false, the call
// stopped, when send refuses it.
func (c *call) pass(piece string, send func(string) bool) bool {
	if piece == "" {
		return true
	}
	c.text.WriteString(piece)
	if send == nil || send(piece) {
		return true
	}
	c.rel.stopped = true
	c.last = Chunk{}
	return false
}
