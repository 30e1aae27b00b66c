package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

// Tool-call approval. A call of a tool with effects (Tool.Effects) by an agent the
// request names in ApprovalAgents waits for the user: the run records the call in
// chat_approvals, sends TOOL_APPROVAL_REQUIRED and waits for approveToolCall, which
// may land on any instance. The deciding instance updates the row and publishes the
// call's ID on the run's topic; the run, woken by the bus (or, should a notification
// be lost, by a slow poll of the row), reads the decision and clears the user's
// arguments from the row. No decision by the deadline declines the call.

// Events carries approval decisions between server instances; events.Bus satisfies it.
type Events interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}

const (
	// DefaultApprovalTimeout is how long a call waits for its decision when
	// Deps.ApprovalTimeout is zero.
	DefaultApprovalTimeout = 2 * time.Minute
	// DefaultApprovalPoll is how often a waiting run reads its call's row, in case the
	// bus lost the notification of its decision.
	DefaultApprovalPoll = 5 * time.Second
	// approvalRetention is how long an expired row is kept, to answer a late
	// approveToolCall with CONFLICT rather than NOT_FOUND.
	approvalRetention = time.Hour
	// maxApprovalArguments bounds the user's replacement arguments, in bytes.
	maxApprovalArguments = 16 << 10
)

// ToolCallApproval is the decision approveToolCall recorded.
type ToolCallApproval struct {
	RunID    string
	CallID   string
	Approved bool
	// Arguments are the user's replacement arguments; nil when the model's stand.
	Arguments json.RawMessage
	DecidedAt time.Time
}

// approvals is where runs wait for decisions and approveToolCall records them.
type approvals struct {
	db       *bun.DB
	events   Events // nil: the poll alone wakes runs
	registry *Registry
	now      func() time.Time
	timeout  time.Duration
	poll     time.Duration
	logger   *slog.Logger
}

// approvalTopic is the bus topic a run's decisions are announced on.
func approvalTopic(runID string) string { return "chat.approval:" + runID }

// errRunEnded is the wait cut short by the end of the run's calls.
var errRunEnded = errors.New("the run ended before the user decided; the tool was not run")

// approve returns the arguments to run tool with: the model's (args), unless the call
// needs the user's approval, which it then waits for (setting res.Approval): the user's
// replacement arguments if they gave any. A call not approved returns the error the
// model is told.
func (r *run) approve(agent *Agent, tool *Tool, call *ToolCall, res *ToolResult) (json.RawMessage, error) {
	if !tool.Effects || !slices.Contains(r.req.ApprovalAgents, agent.Name) {
		return call.Arguments, nil
	}
	a := r.o.cfg.approvals
	if r.req.Unattended || a == nil {
		metrics.ToolApprovals.WithLabelValues("unattended").Inc()
		d := ApprovalDeclined
		res.Approval = &d
		return nil, errors.New("this call needs the user's approval, which cannot be asked in this chat; it was not run: tell the user to approve it in a streamed chat")
	}
	d, args, err := a.wait(r.calls, r, agent, tool, call)
	if err != nil {
		outcome := "ended"
		if !errors.Is(err, errRunEnded) {
			outcome = "failed"
			r.o.cfg.Logger.ErrorContext(r.ctx, "chat: waiting for a tool call's approval failed", "error", err, "run_id", r.id, "user_id", r.req.UserID)
			err = errors.New("the user's approval could not be asked; the tool was not run")
		}
		metrics.ToolApprovals.WithLabelValues(outcome).Inc()
		declined := ApprovalDeclined
		res.Approval = &declined
		return nil, err
	}
	metrics.ToolApprovals.WithLabelValues(strings.ToLower(string(d))).Inc()
	res.Approval = &d
	switch d {
	case ApprovalApproved:
		if args == nil {
			return call.Arguments, nil
		}
		if err := tool.Params.Validate(args); err != nil {
			return nil, fmt.Errorf("the user's arguments do not fit the tool: %w", err)
		}
		return args, nil
	case ApprovalExpired:
		return nil, errors.New("the user did not approve this call in time, so it was declined and not run")
	default:
		return nil, errors.New("the user declined this call, so it was not run; do not call it again unless the user asks")
	}
}

// wait records call as waiting, tells the client, and waits for the decision, the
// deadline (which declines it) or the end of calls, the run's calls' context
// (errRunEnded). It returns the user's replacement arguments, if any, with an approval.
func (a *approvals) wait(calls context.Context, r *run, agent *Agent, tool *Tool, call *ToolCall) (ApprovalDecision, json.RawMessage, error) {
	ctx, stop := context.WithCancel(calls)
	defer stop()
	// Subscribed before the row exists: no decision can be announced unheard.
	var wake <-chan []byte
	if a.events != nil {
		ch, err := a.events.Subscribe(ctx, approvalTopic(r.id))
		if err != nil {
			a.logger.WarnContext(ctx, "chat: approvals not followed on the bus; polling", "error", err, "run_id", r.id)
		} else {
			wake = ch
		}
	}
	now := a.now()
	row := &models.ChatApproval{
		RunID: r.id, CallID: call.ID, UserID: r.req.UserID, Agent: agent.Name, Tool: tool.Name,
		Status: models.ApprovalPending, CreatedAt: now, ExpiresAt: now.Add(a.timeout),
	}
	if err := deleteApprovalsExpiredBefore(ctx, a.db, now.Add(-approvalRetention)); err != nil {
		a.logger.WarnContext(ctx, "chat: old approvals not removed", "error", err)
	}
	if err := insertApproval(ctx, a.db, row); err != nil {
		if ctx.Err() != nil {
			return "", nil, errRunEnded
		}
		return "", nil, err
	}
	if !r.emit(&Event{Type: EventToolApprovalRequired, Agent: agent.Name,
		Approval: &ApprovalRequest{ToolCall: *call, ExpiresAt: row.ExpiresAt}}) {
		a.end(ctx, row)
		return "", nil, errRunEnded
	}
	deadline := time.NewTimer(a.timeout)
	defer deadline.Stop()
	poll := time.NewTicker(a.poll)
	defer poll.Stop()
	late := false // past the deadline: whatever the row says now is the last word
	for {
		select {
		case _, ok := <-wake:
			if !ok {
				wake = nil // the bus closed: the poll goes on
				continue
			}
		case <-poll.C:
		case <-deadline.C:
			expired, err := decideApproval(ctx, a.db, row.UserID, row.RunID, row.CallID, models.ApprovalExpired, "", a.now())
			if err == nil && expired {
				return ApprovalExpired, nil, nil
			}
			// A decision came first (or the update failed): read the row, once.
			late = true
		case <-ctx.Done():
			a.end(ctx, row)
			return "", nil, errRunEnded
		}
		got, err := findApproval(ctx, a.db, row.UserID, row.RunID, row.CallID)
		if late && (err != nil || got.Status == models.ApprovalPending) {
			// The database failed us at the deadline: the call is declined all the same.
			a.logger.WarnContext(ctx, "chat: a tool call's approval unreadable at its deadline: declined", "error", err, "run_id", r.id)
			return ApprovalExpired, nil, nil
		}
		if err != nil {
			if ctx.Err() == nil {
				// A database away for a moment: the next poll reads again, and the
				// deadline still ends the wait.
				a.logger.WarnContext(ctx, "chat: reading a tool call's approval failed", "error", err, "run_id", r.id)
			}
			continue
		}
		if got.Status == models.ApprovalPending {
			continue
		}
		if err := consumeApproval(ctx, a.db, row.UserID, row.RunID, row.CallID); err != nil {
			a.logger.WarnContext(ctx, "chat: a tool call's approval not cleared", "error", err, "run_id", r.id)
		}
		switch got.Status {
		case models.ApprovalApproved:
			var args json.RawMessage
			if got.Arguments != "" {
				args = json.RawMessage(got.Arguments)
			}
			return ApprovalApproved, args, nil
		case models.ApprovalDeclined:
			return ApprovalDeclined, nil, nil
		default:
			return ApprovalExpired, nil, nil
		}
	}
}

// end marks row's call as not run because the run ended, so that a late decision is
// refused; ctx has ended, so it is done without it, briefly.
func (a *approvals) end(ctx context.Context, row *models.ChatApproval) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if _, err := decideApproval(ctx, a.db, row.UserID, row.RunID, row.CallID, models.ApprovalEnded, "", a.now()); err != nil {
		a.logger.WarnContext(ctx, "chat: an abandoned approval not closed", "error", err, "run_id", row.RunID)
	}
	// A decision that came first may have left the user's arguments, which no run
	// will read now.
	if err := consumeApproval(ctx, a.db, row.UserID, row.RunID, row.CallID); err != nil {
		a.logger.WarnContext(ctx, "chat: an abandoned approval's arguments not cleared", "error", err, "run_id", row.RunID)
	}
}

// decide records the user's decision on a call waiting for it, and wakes the run.
func (a *approvals) decide(ctx context.Context, userID, runID, callID string, approve bool, arguments json.RawMessage) (*ToolCallApproval, error) {
	row, err := findApproval(ctx, a.db, userID, runID, callID)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, &models.Error{Code: models.CodeNotFound, Field: "callId",
				Message: "no tool call of this run waits for your approval", Err: err}
		}
		return nil, err
	}
	if row.Status != models.ApprovalPending {
		return nil, approvalConflict(row.Status)
	}
	now := a.now()
	if !now.Before(row.ExpiresAt) {
		// The run's instance may be gone: record it for whoever reads the row.
		if _, err := decideApproval(ctx, a.db, userID, runID, callID, models.ApprovalExpired, "", now); err != nil {
			return nil, err
		}
		a.announce(ctx, runID, callID)
		return nil, approvalConflict(models.ApprovalExpired)
	}
	var args string
	if approve && len(bytes.TrimSpace(arguments)) > 0 && string(bytes.TrimSpace(arguments)) != "null" {
		if args, err = a.checkArguments(row, arguments); err != nil {
			return nil, err
		}
	}
	status := models.ApprovalDeclined
	if approve {
		status = models.ApprovalApproved
	}
	ok, err := decideApproval(ctx, a.db, userID, runID, callID, status, args, now)
	if err != nil {
		return nil, err
	}
	if !ok {
		// Another decision, the deadline or the run's end came first.
		if row, err = findApproval(ctx, a.db, userID, runID, callID); err != nil {
			return nil, err
		}
		return nil, approvalConflict(row.Status)
	}
	a.announce(ctx, runID, callID)
	out := &ToolCallApproval{RunID: runID, CallID: callID, Approved: approve, DecidedAt: now}
	if args != "" {
		out.Arguments = json.RawMessage(args)
	}
	return out, nil
}

// checkArguments returns the user's replacement arguments, compacted, or
// BAD_USER_INPUT when they do not fit the call's tool.
func (a *approvals) checkArguments(row *models.ChatApproval, arguments json.RawMessage) (string, error) {
	bad := func(format string, args ...any) error {
		return &models.Error{Code: models.CodeBadUserInput, Field: "arguments", Message: fmt.Sprintf(format, args...)}
	}
	if len(arguments) > maxApprovalArguments {
		return "", bad("arguments are at most %d bytes", maxApprovalArguments)
	}
	var tool *Tool
	if agent, ok := a.registry.Agent(row.Agent); ok {
		tool, _ = agent.Tool(row.Tool)
	}
	if tool == nil {
		return "", bad("the tool %q takes no arguments from here", row.Tool)
	}
	if err := tool.Params.Validate(arguments); err != nil {
		return "", bad("arguments do not fit %s: %s", row.Tool, err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, arguments); err != nil {
		return "", bad("arguments must be a JSON object")
	}
	return b.String(), nil
}

// announce tells the run's instance that its call was decided. A lost notification
// only delays the run until its next poll.
func (a *approvals) announce(ctx context.Context, runID, callID string) {
	if a.events == nil {
		return
	}
	payload, _ := json.Marshal(callID)
	if err := a.events.Publish(ctx, approvalTopic(runID), payload); err != nil {
		a.logger.WarnContext(ctx, "chat: an approval not announced; the run will poll", "error", err, "run_id", runID)
	}
}

// approvalConflict is approveToolCall's answer for a call already past its decision.
func approvalConflict(status string) error {
	msg := "this tool call was already " + status
	switch status {
	case models.ApprovalExpired:
		msg = "this tool call expired without a decision, so it was declined"
	case models.ApprovalEnded:
		msg = "the run ended before a decision, so the tool call was not run"
	}
	return &models.Error{Code: models.CodeConflict, Field: "callId", Message: msg}
}
