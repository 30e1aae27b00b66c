package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// approvalEventFields is what the approval tests read of each chat event.
const approvalEventFields = `runId seq type agent
	toolCall { id name arguments }
	approval { toolCall { id name arguments } expiresAt }
	toolResult { callId name approval error }
	action { type collection payload }
	done { response }
	error { code message }`

// approvalEvent is one ChatEvent as the approval tests decode it.
type approvalEvent struct {
	RunID    string `json:"runId"`
	Seq      int    `json:"seq"`
	Type     string `json:"type"`
	Agent    string `json:"agent"`
	ToolCall *struct {
		ID        string          `json:"id"`
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"toolCall"`
	Approval *struct {
		ToolCall struct {
			ID        string          `json:"id"`
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"toolCall"`
		ExpiresAt time.Time `json:"expiresAt"`
	} `json:"approval"`
	ToolResult *struct {
		CallID   string  `json:"callId"`
		Approval *string `json:"approval"`
		Error    string  `json:"error"`
	} `json:"toolResult"`
	Action *struct {
		Collection string         `json:"collection"`
		Payload    map[string]any `json:"payload"`
	} `json:"action"`
	Done *struct {
		Response string `json:"response"`
	} `json:"done"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// approvalSubscription asks the email agent, which waits for approval before it
// drafts, to reply to Ada; Bob's email is there for the user to pick instead.
const approvalSubscription = `subscription { chat(input: {message: "reply to Ada", context: {emails: [
	{id: "m1", from: "Ada Lovelace <ada@example.com>", subject: "Draft feedback", body: "Could you send the final version by Friday?", received: "2026-01-01T08:00:00Z"},
	{id: "m2", from: "Bob <bob@example.com>", subject: "Lunch", body: "Lunch on Thursday?", received: "2026-01-01T09:00:00Z"}
]}}) { ` + approvalEventFields + ` } }`

const approveMutation = `mutation($run: ID!, $call: ID!, $approve: Boolean!, $args: JSON) {
	approveToolCall(runId: $run, callId: $call, approve: $approve, arguments: $args) { runId callId approved arguments decidedAt }
}`

// newApprovalLLM routes to the email agent, whose model drafts a reply to m1 and,
// told the result, answers "Done.".
func newApprovalLLM(t testing.TB) *fakellm.Server {
	t.Helper()
	srv := fakellm.New(t)
	srv.Reply = func(req fakellm.Request) fakellm.Response {
		if len(req.Body.Tools) == 0 {
			return fakellm.Response{Content: "email"}
		}
		if req.Body.Messages[len(req.Body.Messages)-1].Role == "tool" {
			return fakellm.Response{Content: "Done."}
		}
		return fakellm.Response{Chunks: []fakellm.Chunk{{ToolCalls: []fakellm.ToolCallDelta{
			{Index: 0, ID: "call_draft", Name: "draft_response", Arguments: `{"email_id":"m1"}`},
		}}}}
	}
	return srv
}

// chatStream is one chat subscription over some transport: next returns its next
// event, false once it completed.
type chatStream func(t *testing.T) (approvalEvent, bool)

func decodeChatEvent(t *testing.T, payload []byte) approvalEvent {
	t.Helper()
	var p struct {
		Data struct {
			Chat approvalEvent `json:"chat"`
		} `json:"data"`
		Errors []gqlError `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(payload, &p), string(payload))
	require.Empty(t, p.Errors)
	return p.Data.Chat
}

// TestToolCallApprovalAcrossInstances runs a chat whose tool call waits for approval
// on instance A, over graphql-transport-ws, the legacy graphql-ws and SSE, and decides
// it with approveToolCall on instance B over the same PostgreSQL: the decision reaches
// the run through LISTEN/NOTIFY. Another user's decision is NOT_FOUND.
func TestToolCallApprovalAcrossInstances(t *testing.T) {
	t.Parallel()
	llmSrv := newApprovalLLM(t)
	url := testkit.DatabaseURL(t, testkit.Postgres)
	a := startApp(t, url, withLLM(llmSrv.URL()), withoutRateLimits)
	b := startApp(t, url, withLLM(llmSrv.URL()), withoutRateLimits)
	token, _, _ := a.register(t, "approver@example.com")
	stranger, _, _ := b.register(t, "stranger@example.com")
	ts := serve(t, a)

	transports := []struct {
		name string
		open func(t *testing.T) chatStream
	}{
		{"graphql-transport-ws", func(t *testing.T) chatStream {
			ws := dialGraphQLWS(t, ts.URL, token)
			ws.subscribe(t, "a1", approvalSubscription)
			return func(t *testing.T) (approvalEvent, bool) {
				m := ws.next(t)
				require.Equal(t, "a1", m.ID)
				if m.Type == "complete" {
					return approvalEvent{}, false
				}
				require.Equal(t, "next", m.Type, "%s", m.Payload)
				return decodeChatEvent(t, m.Payload), true
			}
		}},
		{"legacy graphql-ws", func(t *testing.T) chatStream {
			ws := dialLegacyWS(t, ts.URL, token)
			payload, err := json.Marshal(map[string]string{"query": approvalSubscription})
			require.NoError(t, err)
			ws.write(t, wsMessage{ID: "l1", Type: "start", Payload: payload})
			return func(t *testing.T) (approvalEvent, bool) {
				m := ws.next(t)
				for m.Type == "ka" {
					m = ws.next(t)
				}
				require.Equal(t, "l1", m.ID)
				if m.Type == "complete" {
					return approvalEvent{}, false
				}
				require.Equal(t, "data", m.Type, "%s", m.Payload)
				return decodeChatEvent(t, m.Payload), true
			}
		}},
		{"sse", func(t *testing.T) chatStream {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			t.Cleanup(cancel)
			events := subscribeSSE(t, ctx, ts.URL, token, approvalSubscription)
			return func(t *testing.T) (approvalEvent, bool) {
				ev, ok := <-events
				require.True(t, ok, "the stream broke off")
				if ev.name == "complete" {
					return approvalEvent{}, false
				}
				require.Equal(t, "next", ev.name)
				return decodeChatEvent(t, []byte(ev.data)), true
			}
		}},
	}
	decisions := []struct {
		name    string
		approve bool
		args    any
		check   func(t *testing.T, result approvalEvent, actions []approvalEvent)
	}{
		{"approve", true, nil, func(t *testing.T, result approvalEvent, actions []approvalEvent) {
			require.Equal(t, "APPROVED", *result.ToolResult.Approval)
			require.Len(t, actions, 1)
			require.Equal(t, "drafts", actions[0].Action.Collection)
			require.Equal(t, "m1", actions[0].Action.Payload["emailId"])
		}},
		{"approve with other arguments", true, map[string]any{"email_id": "m2", "tone": "brief"}, func(t *testing.T, result approvalEvent, actions []approvalEvent) {
			require.Equal(t, "APPROVED", *result.ToolResult.Approval)
			require.Len(t, actions, 1)
			require.Equal(t, "m2", actions[0].Action.Payload["emailId"], "the draft is the user's choice")
			require.Equal(t, "Bob <bob@example.com>", actions[0].Action.Payload["to"])
		}},
		{"decline", false, nil, func(t *testing.T, result approvalEvent, actions []approvalEvent) {
			require.Equal(t, "DECLINED", *result.ToolResult.Approval)
			require.Contains(t, result.ToolResult.Error, "the user declined this call")
			require.Empty(t, actions)
		}},
	}
	for i, tr := range transports {
		d := decisions[i%len(decisions)]
		t.Run(tr.name+": "+d.name, func(t *testing.T) {
			next := tr.open(t)
			var ask approvalEvent
			for {
				e, ok := next(t)
				require.True(t, ok, "the run ended without asking")
				require.NotEqual(t, "TOOL_RESULT", e.Type, "the tool ran without approval")
				if e.Type == "TOOL_APPROVAL_REQUIRED" {
					ask = e
					break
				}
			}
			require.Equal(t, "email", ask.Agent)
			require.Equal(t, "call_draft", ask.Approval.ToolCall.ID)
			require.Equal(t, "draft_response", ask.Approval.ToolCall.Name)
			require.JSONEq(t, `{"email_id":"m1"}`, string(ask.Approval.ToolCall.Arguments))
			require.True(t, ask.Approval.ExpiresAt.After(time.Now().Add(time.Minute)), "the default timeout is two minutes")

			vars := map[string]any{"run": ask.RunID, "call": "call_draft", "approve": d.approve, "args": d.args}
			_, errs := b.do(t, stranger, approveMutation, vars)
			requireError(t, errs, "NOT_FOUND", "callId", "")
			_, errs = b.do(t, token, approveMutation, map[string]any{"run": ask.RunID, "call": "call_draft", "approve": true,
				"args": map[string]any{"email_id": "m2", "tone": "shouty"}})
			requireError(t, errs, "BAD_USER_INPUT", "arguments", "tone")

			data, errs := b.do(t, token, approveMutation, vars)
			require.Empty(t, errs)
			got := data["approveToolCall"].(map[string]any)
			require.Equal(t, ask.RunID, got["runId"])
			require.Equal(t, d.approve, got["approved"])

			var result approvalEvent
			var actions []approvalEvent
			var last approvalEvent
			seq := ask.Seq
			for {
				e, ok := next(t)
				if !ok {
					break
				}
				seq++
				require.Equal(t, seq, e.Seq)
				switch e.Type {
				case "TOOL_RESULT":
					result = e
				case "ACTION":
					actions = append(actions, e)
				}
				last = e
			}
			require.Equal(t, "DONE", last.Type, "%+v", last.Error)
			require.Equal(t, "Done.", last.Done.Response)
			require.Equal(t, "call_draft", result.ToolResult.CallID)
			d.check(t, result, actions)

			_, errs = b.do(t, token, approveMutation, vars)
			requireError(t, errs, "CONFLICT", "callId", "already")
		})
	}
}

// TestToolCallApprovalSurvivesAResume: the client drops while a call waits; resumed
// from before the question (chatRun), it is asked again and its decision runs the call.
func TestToolCallApprovalSurvivesAResume(t *testing.T) {
	t.Parallel()
	llmSrv := newApprovalLLM(t)
	a := newApp(t, testkit.SQLite, withLLM(llmSrv.URL()), withoutRateLimits)
	token, _, _ := a.register(t, "resumer@example.com")
	ts := serve(t, a)
	read := func(ws *wsClient, id string) (approvalEvent, bool) {
		m := ws.next(t)
		require.Equal(t, id, m.ID)
		if m.Type == "complete" {
			return approvalEvent{}, false
		}
		require.Equal(t, "next", m.Type, "%s", m.Payload)
		var p struct {
			Data map[string]approvalEvent `json:"data"`
		}
		require.NoError(t, json.Unmarshal(m.Payload, &p), string(m.Payload))
		for _, e := range p.Data {
			return e, true
		}
		t.Fatalf("no event in %s", m.Payload)
		return approvalEvent{}, false
	}

	ws1 := dialGraphQLWS(t, ts.URL, token)
	ws1.subscribe(t, "c", approvalSubscription)
	var ask approvalEvent
	for ask.Type != "TOOL_APPROVAL_REQUIRED" {
		e, ok := read(ws1, "c")
		require.True(t, ok, "the run ended without asking")
		ask = e
	}
	require.NoError(t, ws1.conn.Close()) // the phone changes network

	ws2 := dialGraphQLWS(t, ts.URL, token)
	ws2.subscribe(t, "r", fmt.Sprintf(`subscription { chatRun(runId: %q, afterSeq: %d) { %s } }`, ask.RunID, ask.Seq-1, approvalEventFields))
	again, ok := read(ws2, "r")
	require.True(t, ok)
	require.Equal(t, ask, again, "the question is asked again")

	_, errs := a.do(t, token, approveMutation, map[string]any{"run": ask.RunID, "call": "call_draft", "approve": true})
	require.Empty(t, errs)
	var types []string
	var last approvalEvent
	for {
		e, ok := read(ws2, "r")
		if !ok {
			break
		}
		types = append(types, e.Type)
		if e.Type == "TOOL_RESULT" {
			require.Equal(t, "APPROVED", *e.ToolResult.Approval)
		}
		last = e
	}
	require.Equal(t, []string{"TOOL_RESULT", "ACTION", "TOKEN", "USAGE", "DONE"}, types)
	require.Equal(t, "Done.", last.Done.Response)
}
