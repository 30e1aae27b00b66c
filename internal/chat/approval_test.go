package chat_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/chat"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// settingsFake is the Settings fake: each user's chat settings as the test sets them.
type settingsFake struct {
	mu   sync.Mutex
	byID map[string]models.ChatSettings
}

func (f *settingsFake) set(userID string, s models.ChatSettings) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.byID == nil {
		f.byID = map[string]models.ChatSettings{}
	}
	f.byID[userID] = s
}

func (f *settingsFake) ChatSettings(_ context.Context, userID string) (*models.ChatSettings, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.byID[userID]
	return &s, nil
}

// approvalFixture is the chat service over a database with approvals on: decisions
// travel on an in-memory bus, and the poll is an hour, so that only the bus can wake
// a run within a test (approvalsByPolling tests the poll).
type approvalFixture struct {
	*serviceFixture
	settings *settingsFake
}

func newApprovalService(t *testing.T, db *bun.DB, tune ...func(*chat.Deps)) *approvalFixture {
	t.Helper()
	settings := &settingsFake{}
	bus := events.NewMemory(nil)
	t.Cleanup(func() { _ = bus.Close() })
	f := newService(t, db, append([]func(*chat.Deps){func(d *chat.Deps) {
		d.DB, d.Events, d.Settings = db, bus, settings
		d.ApprovalTimeout, d.ApprovalPoll = time.Hour, time.Hour
	}}, tune...)...)
	return &approvalFixture{serviceFixture: f, settings: settings}
}

// toolThenAnswer has the router choose agent, whose model calls tool with args and,
// once told the result, answers "Done.".
func toolThenAnswer(agent, tool, args string) func(fakellm.Request) fakellm.Response {
	return func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: agent}
		}
		if last := req.Body.Messages[len(req.Body.Messages)-1]; last.Role == "tool" {
			return fakellm.Response{Content: "Done."}
		}
		return toolCall("call_1", tool, args)
	}
}

// untilApproval reads a run's events up to its TOOL_APPROVAL_REQUIRED, which it returns.
func untilApproval(t *testing.T, ch <-chan *chat.Event) (before []chat.Event, approval chat.Event) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case e, ok := <-ch:
			require.True(t, ok, "the run ended without asking: %+v", before)
			if e.Type == chat.EventToolApprovalRequired {
				return before, *e
			}
			require.NotEqual(t, chat.EventToolResult, e.Type, "the tool answered without approval: %+v", e.ToolResult)
			before = append(before, *e)
		case <-timeout:
			t.Fatal("no TOOL_APPROVAL_REQUIRED")
		}
	}
}

// lastToolMessage is what the model was told of the call, in its last request.
func lastToolMessage(t *testing.T, srv *fakellm.Server) string {
	t.Helper()
	reqs := srv.Requests()
	msgs := reqs[len(reqs)-1].Body.Messages
	require.Equal(t, "tool", msgs[len(msgs)-1].Role)
	return msgs[len(msgs)-1].Content
}

func TestToolCallApproval(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		f := newApprovalService(t, db)
		f.server.Reply = toolThenAnswer("task", "create_task", `{"title":"Call the bank","priority":"low"}`)
		in := chat.Input{Message: "remind me to call the bank", Context: sampleContext()}
		start := func(t *testing.T, user string) (<-chan *chat.Event, chat.Event) {
			t.Helper()
			ch, err := f.svc.Chat(ctx, models.PersonalActor(user), in)
			require.NoError(t, err)
			before, ask := untilApproval(t, ch)
			started := ofType(before, chat.EventToolCallStarted)
			require.Len(t, started, 1)
			require.Equal(t, *started[0].ToolCall, ask.Approval.ToolCall, "the call asked about is the one started")
			require.JSONEq(t, `{"title":"Call the bank","priority":"low"}`, string(ask.Approval.ToolCall.Arguments))
			require.Equal(t, f.clock.Now().Add(time.Hour), ask.Approval.ExpiresAt)
			require.Equal(t, "task", ask.Agent)
			return ch, ask
		}
		finish := func(t *testing.T, ch <-chan *chat.Event, ask chat.Event) []chat.Event {
			t.Helper()
			rest := collect(t, ch)
			all := append([]chat.Event{ask}, rest...)
			require.Equal(t, chat.EventDone, rest[len(rest)-1].Type)
			require.Equal(t, "Done.", rest[len(rest)-1].Done.Response)
			return all
		}
		user := func(t *testing.T) string {
			t.Helper()
			u := f.user(t, models.TierPro)
			f.settings.set(u, models.ChatSettings{RequireToolApproval: true}) // the task agent asks for none itself
			return u
		}

		t.Run("approve", func(t *testing.T) {
			u := user(t)
			ch, ask := start(t, u)
			got, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, nil)
			require.NoError(t, err)
			require.Equal(t, &chat.ToolCallApproval{RunID: ask.RunID, CallID: "call_1", Approved: true, DecidedAt: f.clock.Now()}, got)
			all := finish(t, ch, ask)
			res := ofType(all, chat.EventToolResult)[0].ToolResult
			require.Equal(t, chat.ApprovalApproved, *res.Approval)
			require.Empty(t, res.Error)
			actions := ofType(all, chat.EventAction)
			require.Len(t, actions, 1)
			require.Equal(t, "Call the bank", actions[0].Action.Payload["title"])
			require.Contains(t, lastToolMessage(t, f.server), "Call the bank")

			_, err = f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", false, nil)
			testkit.RequireCode(t, err, models.CodeConflict, "callId")
			requireApprovalRow(t, db, ask.RunID, models.ApprovalApproved, "")
		})

		t.Run("approve with the user's arguments", func(t *testing.T) {
			u := user(t)
			ch, ask := start(t, u)
			edited := json.RawMessage(`{ "title": "Call the bank about the loan", "priority": "high" }`)
			got, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, edited)
			require.NoError(t, err)
			require.JSONEq(t, string(edited), string(got.Arguments))
			all := finish(t, ch, ask)
			require.Equal(t, chat.ApprovalApproved, *ofType(all, chat.EventToolResult)[0].ToolResult.Approval)
			actions := ofType(all, chat.EventAction)
			require.Len(t, actions, 1)
			require.Equal(t, map[string]any{"title": "Call the bank about the loan", "priority": "high", "status": "todo"}, actions[0].Action.Payload,
				"the action is the user's arguments'")
			require.Equal(t, []chat.Action{*actions[0].Action}, all[len(all)-1].Done.Actions)
			requireApprovalRow(t, db, ask.RunID, models.ApprovalApproved, "") // the arguments are gone once read
		})

		t.Run("decline", func(t *testing.T) {
			u := user(t)
			ch, ask := start(t, u)
			got, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", false, json.RawMessage(`{"title":"ignored"}`))
			require.NoError(t, err)
			require.False(t, got.Approved)
			require.Nil(t, got.Arguments, "arguments are ignored when declining")
			all := finish(t, ch, ask)
			res := ofType(all, chat.EventToolResult)[0].ToolResult
			require.Equal(t, chat.ApprovalDeclined, *res.Approval)
			require.Contains(t, res.Error, "the user declined this call")
			require.Nil(t, res.Result)
			require.Empty(t, ofType(all, chat.EventAction), "a declined call proposes nothing")
			require.Contains(t, lastToolMessage(t, f.server), "the user declined this call", "the model is told")
			requireApprovalRow(t, db, ask.RunID, models.ApprovalDeclined, "")
		})

		t.Run("invalid arguments leave the call waiting", func(t *testing.T) {
			u := user(t)
			ch, ask := start(t, u)
			for _, args := range []string{`{"priority":"asap","title":"x"}`, `{"colour":"red","title":"x"}`, `{}`, `[1]`} {
				_, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, json.RawMessage(args))
				testkit.RequireCode(t, err, models.CodeBadUserInput, "arguments")
				requireApprovalRow(t, db, ask.RunID, models.ApprovalPending, "")
			}
			_, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, json.RawMessage(`{"title":"Call the bank today"}`))
			require.NoError(t, err)
			all := finish(t, ch, ask)
			require.Equal(t, "Call the bank today", ofType(all, chat.EventAction)[0].Action.Payload["title"])
		})

		t.Run("unknown and other users' calls are not found", func(t *testing.T) {
			u := user(t)
			ch, ask := start(t, u)
			other := f.user(t, models.TierPro)
			for _, c := range []struct{ user, run, call string }{
				{other, ask.RunID, "call_1"}, {u, ask.RunID, "call_2"}, {u, "no-such-run", "call_1"},
			} {
				_, err := f.svc.ApproveToolCall(ctx, c.user, c.run, c.call, true, nil)
				testkit.RequireCode(t, err, models.CodeNotFound, "callId")
			}
			requireApprovalRow(t, db, ask.RunID, models.ApprovalPending, "")
			_, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", false, nil)
			require.NoError(t, err)
			finish(t, ch, ask)
		})

		t.Run("expired: refused, and the run declines", func(t *testing.T) {
			// The run's own deadline is an hour away; the decision comes after the
			// recorded expiry (as from a run whose instance is slow or gone).
			u := user(t)
			ch, ask := start(t, u)
			f.clock.Set(ask.Approval.ExpiresAt)
			defer f.clock.Set(fixedNow())
			_, err := f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, nil)
			e := testkit.RequireCode(t, err, models.CodeConflict, "callId")
			require.Contains(t, e.Message, "declined")
			all := finish(t, ch, ask)
			res := ofType(all, chat.EventToolResult)[0].ToolResult
			require.Equal(t, chat.ApprovalExpired, *res.Approval)
			require.Empty(t, ofType(all, chat.EventAction))
		})
	})
}

// requireApprovalRow checks the stored state of a run's call_1.
func requireApprovalRow(t *testing.T, db *bun.DB, runID, status, arguments string) {
	t.Helper()
	var row models.ChatApproval
	require.NoError(t, db.NewSelect().Model(&row).Where("run_id = ? AND call_id = ?", runID, "call_1").Scan(context.Background()))
	require.Equal(t, status, row.Status)
	require.Equal(t, arguments, row.Arguments)
}

func TestToolCallApprovalTimesOut(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		t.Parallel()
		ctx := context.Background()
		f := newApprovalService(t, db, func(d *chat.Deps) { d.ApprovalTimeout = time.Millisecond })
		f.server.Reply = toolThenAnswer("email", "draft_response", `{"email_id":"m1"}`)
		u := f.user(t, models.TierPro) // no setting: the email agent asks itself

		ch, err := f.svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "reply to Ada", Context: sampleContext()})
		require.NoError(t, err)
		before, ask := untilApproval(t, ch)
		rest := collect(t, ch)
		requireWellFormed(t, append(append(before, ask), rest...))
		res := ofType(rest, chat.EventToolResult)[0].ToolResult
		require.Equal(t, chat.ApprovalExpired, *res.Approval)
		require.Contains(t, res.Error, "did not approve this call in time")
		require.Empty(t, ofType(rest, chat.EventAction))
		require.Equal(t, "Done.", rest[len(rest)-1].Done.Response, "the model goes on")

		_, err = f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, nil)
		e := testkit.RequireCode(t, err, models.CodeConflict, "callId")
		require.Contains(t, e.Message, "expired")
	})
}

// TestToolCallApprovalByPolling has no bus: the run finds the decision by reading its
// row, as it does when a notification is lost.
func TestToolCallApprovalByPolling(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	f := newApprovalService(t, db, func(d *chat.Deps) { d.Events, d.ApprovalPoll = nil, 5*time.Millisecond })
	f.server.Reply = toolThenAnswer("calendar", "suggest_reschedule", `{"event_id":"e2"}`)
	u := f.user(t, models.TierPro)

	ch, err := f.svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "move my editor call", Context: sampleContext()})
	require.NoError(t, err)
	_, ask := untilApproval(t, ch)
	_, err = f.svc.ApproveToolCall(ctx, u, ask.RunID, "call_1", true, nil)
	require.NoError(t, err)
	rest := collect(t, ch)
	require.Equal(t, chat.ApprovalApproved, *ofType(rest, chat.EventToolResult)[0].ToolResult.Approval)
	require.Len(t, ofType(rest, chat.EventAction), 1)
}

// TestToolCallApprovalEndsWithTheRun: a client gone while a call waits ends the wait;
// a late decision is refused.
func TestToolCallApprovalEndsWithTheRun(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	f := newApprovalService(t, db)
	f.server.Reply = toolThenAnswer("email", "draft_response", `{"email_id":"m1"}`)
	u := f.user(t, models.TierPro)

	ctx, cancel := context.WithCancel(context.Background())
	ch, err := f.svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "reply to Ada", Context: sampleContext()})
	require.NoError(t, err)
	_, ask := untilApproval(t, ch)
	cancel()
	collect(t, ch) // the wait marks the call before the run ends
	requireApprovalRow(t, db, ask.RunID, models.ApprovalEnded, "")
	_, err = f.svc.ApproveToolCall(context.Background(), u, ask.RunID, "call_1", true, nil)
	e := testkit.RequireCode(t, err, models.CodeConflict, "callId")
	require.Contains(t, e.Message, "run ended")
}

// TestWhoDecidesApproval: the agent's own setting or the user's makes a tool with
// effects wait; a tool without effects never does; sendChat, which cannot ask,
// declines.
func TestWhoDecidesApproval(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	tests := []struct {
		name, agent, tool, args string
		userSetting             bool
		asks                    bool
		wantErr                 string
	}{
		{"task agent, user setting off", "task", "create_task", `{"title":"Plan"}`, false, false, ""},
		{"task agent, user setting on", "task", "create_task", `{"title":"Plan"}`, true, true, ""},
		{"read-only tool, user setting on", "task", "list_tasks", `{}`, true, false, ""},
		{"email agent asks itself", "email", "draft_response", `{"email_id":"m1"}`, false, true, ""},
		{"calendar agent asks itself", "calendar", "suggest_reschedule", `{"event_id":"e2"}`, false, true, ""},
		{"analytics agent, user setting off", "analytics", "generate_report", `{}`, false, false, ""},
		{"analytics agent, user setting on", "analytics", "generate_report", `{}`, true, true, ""},
		{"arguments the tool refuses are fed back, not asked about", "email", "draft_response", `{"tone":"shouty"}`, true, false,
			`argument "tone" must be one of friendly, formal, brief`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newApprovalService(t, db)
			g.server.Reply = toolThenAnswer(tt.agent, tt.tool, tt.args)
			u := g.user(t, models.TierPro)
			g.settings.set(u, models.ChatSettings{RequireToolApproval: tt.userSetting})

			ch, err := g.svc.Chat(ctx, models.PersonalActor(u), chat.Input{Message: "go", Context: sampleContext()})
			require.NoError(t, err)
			var got []chat.Event
			timeout := time.After(waitTimeout)
			for got == nil || got[len(got)-1].Type != chat.EventDone {
				select {
				case e, ok := <-ch:
					require.True(t, ok)
					got = append(got, *e)
					if e.Type == chat.EventToolApprovalRequired {
						_, err := g.svc.ApproveToolCall(ctx, u, e.RunID, e.Approval.ToolCall.ID, true, nil)
						require.NoError(t, err)
					}
				case <-timeout:
					t.Fatal("the run never ended")
				}
			}
			requireWellFormed(t, got)
			require.Equal(t, tt.asks, len(ofType(got, chat.EventToolApprovalRequired)) == 1)
			res := ofType(got, chat.EventToolResult)[0].ToolResult
			require.Equal(t, tt.wantErr, res.Error)
			if tt.asks {
				require.Equal(t, chat.ApprovalApproved, *res.Approval)
			} else {
				require.Nil(t, res.Approval)
			}

			// sendChat cannot ask: what would wait is declined at once.
			reply, err := g.svc.Send(ctx, models.PersonalActor(u), chat.Input{Message: "go", Context: sampleContext()})
			require.NoError(t, err)
			if tt.asks || tt.wantErr != "" {
				require.Empty(t, reply.Actions)
			}
			if tt.asks {
				require.Contains(t, lastToolMessage(t, g.server), "cannot be asked in this chat")
			}
		})
	}
}
