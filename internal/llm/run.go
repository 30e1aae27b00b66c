package llm

import (
	"context"
	"strings"

	"github.com/inkgraph/inkgraph/internal/llm/sanitize"
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
func Run(ctx context.Context, p Provider, req Request, secrets *sanitize.Set, send func(string) bool) (Result, error) {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // ends the upstream request if we stop reading
	res := Result{Usage: models.Usage{Calls: 1}}
	ch, err := p.Stream(ctx, req)
	if err != nil {
		return res, err
	}
	text, last, stopped := relay(ch, secrets, send)
	res.Text = text
	u := Estimate(req, text)
	if last.Done != nil && last.Done.Usage != nil {
		u = *last.Done.Usage
	}
	u.Calls = 1
	res.Usage = u
	switch {
	case stopped:
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

// relay reads a model's stream to its end, through a fresh Stream of secrets, and
// hands each non-empty sanitized piece to send. It returns the text passed on and the
// stream's last chunk (zero when the stream closed without one, as when its context
// ended), or stopped when send refused a piece.
func relay(ch <-chan Chunk, secrets *sanitize.Set, send func(string) bool) (text string, last Chunk, stopped bool) {
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
	for c := range ch {
		switch {
		case c.Err != nil, c.Done != nil:
			last = c
		case clean == nil:
			if !pass(c.Text) {
				return b.String(), Chunk{}, true
			}
		default:
			if !pass(clean.Write(c.Text)) {
				return b.String(), Chunk{}, true
			}
		}
	}
	if clean != nil && !pass(clean.Flush()) {
		return b.String(), Chunk{}, true
	}
	return b.String(), last, false
}
