package chat

import (
	"context"
	"errors"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

// emit sends the run's next event, unless the client is gone. A TOKEN goes through
// the run's batcher, which does not wait for a client slow to take it; any other event
// waits until the TOKENs before it are sent, then is sent itself.
// The event is passed by pointer: a value this size would take its room in the frame
// of every caller, the run's held frames included.
func (r *run) emit(e *Event) bool {
	if r.over() {
		return false
	}
	if e.Type == EventToken {
		return r.batch.token(e)
	}
	if !r.batch.wait() || !r.send(e) {
		return false
	}
	if e.Type == EventDone {
		// Delivered (or handed to the run's own goroutine's reader): a DONE the
		// transport failed to write is the client gone, not an answered run.
		r.outcome = metrics.OutcomeOK
	}
	return true
}

// send numbers e and hands it to the transport, returning once the transport has
// taken it; false when the client is gone. The run's goroutine and its batcher's
// sender call it in turn, never at once.
func (r *run) send(e *Event) bool {
	r.seq++
	e.RunID, e.Seq = r.id, r.seq
	if r.journal != nil {
		r.record(e)
		r.ended = r.ended || e.Type == EventDone || e.Type == EventError
	}
	if r.detached {
		return true
	}
	if r.ctx.Err() != nil {
		// Before the select: out may have room (a run the transport adopted), which
		// the select could choose although the client is gone.
		return r.detach()
	}
	select {
	case r.out <- e:
	case <-r.ctx.Done():
		return r.detach()
	}
	if r.deliver == nil || r.deliver() {
		return true
	}
	return r.detach()
}

// over reports whether the run is to stop: its client is gone and nothing keeps its
// events for another.
func (r *run) over() bool {
	return r.ctx.Err() != nil && (r.journal == nil || r.clientStopped())
}

// clientStopped reports whether the client ended the run itself (llm.ErrStopped),
// rather than going away: a run it stopped is not kept going for it.
func (r *run) clientStopped() bool { return errors.Is(context.Cause(r.ctx), llm.ErrStopped) }

// fail ends the run with one ERROR, unless the client is gone.
func (r *run) fail(err error) {
	if r.over() {
		return
	}
	if stopped := llm.Interrupted(r.calls); stopped != nil {
		err = stopped // whatever the cut-off call made of it
	} else if cause := context.Cause(r.calls); errors.Is(cause, errAbandoned) {
		err = r.abandoned()
	} else if errors.Is(cause, errStoppedByReader) {
		err = &models.Error{Code: CodeCancelled, Message: "the chat was stopped"}
	}
	if !r.emitUsage() {
		return
	}
	code := models.ErrorCode(err)
	r.outcome = metrics.FailedOutcome(err)
	if code == models.CodeInternal {
		r.o.cfg.Logger.ErrorContext(r.ctx, "chat run failed", "error", err, "run_id", r.id, "user_id", r.req.UserID)
	}
	r.emit(&Event{Type: EventError, cause: err, Error: &RunError{
		Code: code, Message: models.ErrorMessage(err),
		Retryable: code == models.CodeUpstreamUnavailable || code == models.CodeRateLimited,
	}})
}

// emitUsage reports the run's usage, once, if it made any LLM call.
func (r *run) emitUsage() bool {
	if r.total.Calls == 0 || r.usageSent {
		return true
	}
	r.usageSent = true
	r.reported = r.usage()
	return r.emit(&Event{Type: EventUsage, Usage: r.reported})
}
