package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/platform/runlog"
	"github.com/inkgraph/inkgraph/models"
)

// A resumable run keeps each event it sends in its journal (a runlog.Log: Redis
// Streams when instances share Redis, this process's memory otherwise). When its
// client goes away, the run goes on, its events kept, for the grace; a client that
// resumes it (Service.Resume, chatRun) within it reads the events it missed and then
// the rest as they come; a run nobody resumed is cancelled then, and ends with an
// ERROR (CodeCancelled) that a late reader sees.

// CodeCancelled is the code of the ERROR that ends a run nobody resumed within the
// grace after its client went away.
const CodeCancelled = "CANCELLED"

// errAbandoned is the cause of a run's end when nobody resumed it within the grace.
var errAbandoned = errors.New("chat: nobody resumed the run")

// errStoppedByReader ends a run a client that resumed it stopped.
var errStoppedByReader = fmt.Errorf("chat: a reader stopped the run: %w", llm.ErrStopped)

// errStreamEnded stops a run whose events can no longer be sent at all.
var errStreamEnded = errors.New("chat: the run's stream ended")

// DefaultResumeGrace is how long a run whose client went away waits to be resumed
// unless Config.ResumeGrace says otherwise.
const DefaultResumeGrace = 30 * time.Second

// followedRecheck is how often a run whose client went away asks whether a reader
// follows it.
const followedRecheck = 5 * time.Second

// record keeps e in the run's journal.
func (r *run) record(e *Event) {
	b, err := encodeEvent(e)
	if err != nil {
		// Every event's fields encode; were one not to, the journal stops short of it
		// and a reader sees it cut (the client attached still gets the event).
		r.o.cfg.Logger.ErrorContext(r.ctx, "chat: encoding an event for the run's journal", "error", err, "run_id", r.id)
		return
	}
	r.journal.Append(e.Seq, b)
}

// encodeEvent is json.Marshal(e), byte for byte. A run journals every event, a token
// each, so the commonest, a delta of text (TOKEN, AGENT_TOKEN) whose strings need no
// escaping, is written here without reflection; any other goes to json.Marshal.
func encodeEvent(e *Event) ([]byte, error) {
	if (e.Type != EventToken && e.Type != EventAgentToken) || e.Route != nil || e.ToolCall != nil ||
		e.Approval != nil || e.ToolResult != nil || e.Action != nil || e.Usage != nil || e.Done != nil ||
		e.Error != nil || !plainJSON(e.Agent) || !plainJSON(e.Delta) {
		return json.Marshal(e)
	}
	b := make([]byte, 0, len(`{"t":"AGENT_TOKEN","a":"","d":""}`)+len(e.Agent)+len(e.Delta))
	b = append(append(append(b, `{"t":"`...), e.Type...), '"')
	if e.Agent != "" {
		b = append(append(append(b, `,"a":"`...), e.Agent...), '"')
	}
	if e.Delta != "" {
		b = append(append(append(b, `,"d":"`...), e.Delta...), '"')
	}
	return append(b, '}'), nil
}

// plainJSON reports whether encoding/json writes s between quotes as it is: printable
// ASCII without the quote, the backslash, and <, > and &, which it escapes for HTML.
func plainJSON(s string) bool {
	for i := range len(s) {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// detach is told by the sending goroutine that the client is gone: a journaled run
// goes on, its events kept (clientGone decides for how long); any other is over.
func (r *run) detach() bool {
	if r.journal == nil || r.clientStopped() {
		return false
	}
	r.detached = true
	return true
}

// clientGone runs when the client's context of a journaled run ends (registered once
// the run started, so that it sees how): a client that
// stopped the run ends it at once; one that went away leaves it the grace to be
// resumed.
func (r *run) clientGone() {
	if r.clientStopped() {
		r.endLife(context.Cause(r.ctx))
		return
	}
	if r.deliver != nil {
		// The run goes on, on the transport's goroutine: the connection need not wait.
		llm.Release(r.ctx)
	}
	r.watchStop()
	r.followedAt = time.Now()
	time.AfterFunc(min(followedRecheck, r.o.cfg.ResumeGrace), r.graceOver)
}

// stopTopic is the bus topic on which a reader's stop of a run is announced to the
// instance running it; the payload is the reader's ownerKey.
func stopTopic(runID string) string { return "chat.stop." + runID }

// watchStop, for a run that lost its client, ends the run when a client that resumed
// it stops it (completes chatRun), on whichever instance.
func (r *run) watchStop() {
	if r.o.cfg.Events == nil {
		return
	}
	stops, err := r.o.cfg.Events.Subscribe(r.life, stopTopic(r.id))
	if err != nil {
		r.o.cfg.Logger.WarnContext(r.ctx, "chat: a resumed run's stop cannot be heard", "error", err, "run_id", r.id)
		return
	}
	go func() {
		for p := range stops {
			if string(p) == ownerKey(r.req.UserID, r.req.space()) {
				r.endLife(errStoppedByReader)
				return
			}
		}
	}()
}

// graceOver, every followedRecheck while a run is without its client, asks whether a
// reader follows it (or did within the journal's lease), and cancels the run once the
// grace has passed since its client, or its last reader, went away.
func (r *run) graceOver() {
	if r.life.Err() != nil {
		return
	}
	if r.journal.Followed(r.life) {
		r.followedAt = time.Now()
	}
	left := r.o.cfg.ResumeGrace - time.Since(r.followedAt)
	if left <= 0 {
		r.endLife(errAbandoned)
		return
	}
	time.AfterFunc(min(followedRecheck, left), r.graceOver)
}

// endJournal closes the run's journal, first with the ERROR a reader would otherwise
// never see when the run ended without DONE or ERROR (its client stopped it).
func (r *run) endJournal() {
	if !r.ended {
		r.seq++
		r.record(&Event{RunID: r.id, Seq: r.seq, Type: EventError, Error: &RunError{
			Code: CodeCancelled, Message: "the chat was stopped before it answered"}})
	}
	r.journal.End()
}

// abandoned is the error a run nobody resumed ends with.
func (r *run) abandoned() error {
	return &models.Error{Code: CodeCancelled, Message: fmt.Sprintf(
		"the chat was cancelled: its client went away and nobody resumed it within %s", r.o.cfg.ResumeGrace)}
}

// stopped is why a run whose event did not go out stops.
func (r *run) stopped() error {
	if r.over() {
		return r.ctx.Err()
	}
	return errStreamEnded
}

// Resume streams the events of the user's run after seq after: the ones kept, then
// each as the run sends it, until DONE or ERROR. A run that is not kept (never ran
// here, another user's, or ended longer ago than the retention) is NOT_FOUND, and so
// is one started in another space: a run started in a team is resumed in that team
// (who.Space), whose membership the caller holds still.
func (s *Service) Resume(ctx context.Context, who models.Actor, runID string, after int) (<-chan *Event, error) {
	if after < 0 {
		return nil, &models.Error{Code: models.CodeBadUserInput, Field: "afterSeq",
			Message: "afterSeq is the seq of the last event you have, 0 for none"}
	}
	return s.orch.Resume(ctx, ownerKey(who.UserID, who.Space), runID, after)
}

// ownerKey is who may follow a run in the journal: the user, in the space the run
// used (a team's, or their own).
func ownerKey(userID, space string) string {
	if space == "" || space == userID {
		return userID
	}
	return userID + " in " + space
}

// Resume streams the events of owner's run (ownerKey) after seq after from the
// journal (see Service.Resume).
func (o *Orchestrator) Resume(ctx context.Context, owner, runID string, after int) (<-chan *Event, error) {
	if o.cfg.Journal == nil {
		return nil, runNotFound()
	}
	entries, err := o.cfg.Journal.Follow(ctx, runID, owner, after)
	if errors.Is(err, runlog.ErrNotFound) {
		return nil, runNotFound()
	}
	if err != nil {
		return nil, &models.Error{Code: models.CodeUpstreamUnavailable, Err: err,
			Message: "the chat's events cannot be read now: resume again"}
	}
	out := make(chan *Event)
	go func() {
		defer close(out)
		for en := range entries {
			e := decodeEntry(runID, en)
			select {
			case out <- e:
			case <-ctx.Done():
				o.stopResumed(ctx, owner, runID)
				return
			}
			if e.Seq == 0 {
				return
			}
		}
		o.stopResumed(ctx, owner, runID)
	}()
	return out, nil
}

// stopResumed stops the run a reader read, when the reader's client stopped it
// (llm.ErrStopped) rather than went away: a resumed chat stops as the chat would.
func (o *Orchestrator) stopResumed(ctx context.Context, owner, runID string) {
	if o.cfg.Events == nil || !errors.Is(context.Cause(ctx), llm.ErrStopped) {
		return
	}
	pub, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := o.cfg.Events.Publish(pub, stopTopic(runID), []byte(owner)); err != nil {
		o.cfg.Logger.WarnContext(ctx, "chat: a resumed run's stop was not announced", "error", err, "run_id", runID)
	}
}

func runNotFound() error {
	return &models.Error{Code: models.CodeNotFound, Field: "runId",
		Message: "no chat run of yours with this ID is kept: it is another user's, or ended longer ago than runs are kept"}
}

// decodeEntry is the event a journal entry holds, or, for an entry that ends the
// reading early, an ERROR with seq 0: not an event of the run but of the reading.
func decodeEntry(runID string, en runlog.Entry) *Event {
	var e Event
	err := en.Err
	if err == nil {
		err = json.Unmarshal(en.Data, &e)
	}
	if err == nil {
		e.RunID, e.Seq = runID, en.Seq
		return &e
	}
	re := &RunError{Code: models.CodeUpstreamUnavailable, Retryable: true,
		Message: "the chat's events stopped coming: resume again from the last seq you have"}
	switch {
	case errors.Is(err, runlog.ErrTruncated):
		re = &RunError{Code: models.CodeConflict,
			Message: "the chat's events outgrew what is kept of a run: the rest cannot be resumed"}
	case en.Err == runlog.ErrLost: //nolint:errorlint // the bare sentinel, not a read failure joined to it
		// The run's instance stopped without ending it: its answer is lost.
		re.Message = "the server running this chat stopped before it ended: ask again"
	}
	return &Event{RunID: runID, Type: EventError, Error: re}
}
