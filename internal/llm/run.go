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
// above all, is filled in every case.
//
// Run's own frame is kept small, the span and the outcome being worked out in helpers
// called before and after the stream: a held chat's goroutine waits in the provider
// below it, and its stack shrinks to 8 KiB only while what it holds stays small.
func Run(ctx context.Context, p Provider, req Request, secrets *sanitize.Set, send func(string) bool) (res Result, err error) {
	info := p.Info()
	ctx, span := startSpan(ctx, info)
	defer func() { endSpan(span, res.Usage, err) }()
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the upstream request if we stop reading
	start := time.Now()
	chunks, err := p.Stream(ctx, req)
	if err != nil {
		return Result{Usage: models.Usage{Calls: 1}}, err
	}
	text, last, rel := relay(chunks, secrets, send)
	return outcome(parent, ctx, &info, &req, start, text, &last, &rel)
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

// outcome is what Run returns once the stream is over: the first-token metric
// observed, the usage (reported, or estimated), and the error the way the stream
// ended says. parent is Run's context, ctx the call's.
func outcome(parent, ctx context.Context, info *Info, req *Request, start time.Time, text string, last *Chunk, rel *relayed) (Result, error) {
	if !rel.first.IsZero() {
		metrics.FirstToken.WithLabelValues(info.Provider).Observe(rel.first.Sub(start).Seconds())
	}
	res := Result{Text: text, Streamed: rel.streamed}
	u := Estimate(*req, text)
	if last.Done != nil && last.Done.Usage != nil {
		u = *last.Done.Usage
	}
	u.Calls = 1
	res.Usage = u
	switch {
	case rel.stopped:
		if err := parent.Err(); err != nil {
			return res, err
		}
		return res, context.Canceled
	case last.Err != nil:
		if models.ErrorCode(last.Err) != models.CodeUpstreamUnavailable {
			// The answer had begun: whatever broke it, asking again may work.
			return res, &models.Error{Code: models.CodeUpstreamUnavailable, Message: "the model's answer broke off", Err: last.Err}
		}
		return res, last.Err
	case last.Done == nil:
		if ctxErr := ctx.Err(); ctxErr != nil {
			return res, ctxErr
		}
		return res, models.Errorf(models.CodeUpstreamUnavailable, "the model's answer ended early")
	}
	res.Done = last.Done
	return res, nil
}

// relayed is what relay saw besides the text and the last chunk.
type relayed struct {
	stopped  bool      // send refused a piece
	streamed int       // text deltas passed on to send
	first    time.Time // when the first text delta or complete answer arrived; zero if none did
}

// relay reads a model's stream to its end, through a fresh Stream of secrets, and
// hands each non-empty sanitized piece to send. It returns the text passed on and the
// stream's last chunk (zero when the stream ended without one, as when its context
// ended), or stopped when send refused a piece (which ends the stream).
func relay(chunks iter.Seq[Chunk], secrets *sanitize.Set, send func(string) bool) (text string, last Chunk, r relayed) {
	var clean *sanitize.Stream
	if secrets != nil {
		clean = secrets.NewStream()
	}
	var b strings.Builder
	pass := func(piece string) bool {
		if piece == "" {
			return true
		}
		b.WriteString(piece)
		return send == nil || send(piece)
	}
	stop := func() (string, Chunk, relayed) {
		r.stopped = true
		return b.String(), Chunk{}, r
	}
	for c := range chunks {
		if r.first.IsZero() && c.Err == nil {
			// A text delta, or an answer that is all tool calls: the model's first token.
			r.first = time.Now()
		}
		switch {
		case c.Err != nil, c.Done != nil:
			last = c
		case clean == nil:
			if !pass(c.Text) {
				return stop()
			}
		default:
			if !pass(clean.Write(c.Text)) {
				return stop()
			}
		}
		if c.Text != "" && send != nil {
			r.streamed++
		}
	}
	if clean != nil && !pass(clean.Flush()) {
		return stop()
	}
	return b.String(), last, r
}
