package chat_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/chat"
)

func at(day, hour, minute int) time.Time {
	return time.Date(2026, 3, day, hour, minute, 0, 0, time.UTC)
}

func ptr[T any](v T) *T { return &v }

// sampleContext is the context every tool test works on.
func sampleContext() chat.Context {
	return chat.Context{
		Profile: &chat.Profile{Name: "Sam", Timezone: "UTC"},
		Tasks: []chat.Task{
			{ID: "t1", Title: "Send the invoice", Status: "todo", Priority: "medium", Due: ptr(at(8, 17, 0))},
			{ID: "t2", Title: "Outline chapter 3", Status: "in_progress", Priority: "high"},
			{ID: "t3", Title: "Renew domain", Status: "done", Priority: "low"},
		},
		Events: []chat.CalendarEvent{
			{ID: "e1", Title: "Standup", Start: at(10, 9, 0), End: at(10, 9, 30)},
			{ID: "e2", Title: "Editor call", Start: at(10, 9, 15), End: at(10, 10, 0)},
			{ID: "e3", Title: "Lunch", Start: at(10, 12, 0), End: at(10, 13, 0)},
		},
		Emails: []chat.Email{
			{ID: "m1", From: "Ada Lovelace <ada@example.com>", Subject: "Draft feedback",
				Body: "Loved the draft. Could you send the final version by Friday? Please add the chart too.", Received: at(9, 8, 0)},
			{ID: "m2", From: "billing@example.com", Subject: "Your invoice", Body: "Payment received, thank you.", Received: at(9, 9, 0)},
			{ID: "m3", From: "boss@example.com", Subject: "URGENT: numbers", Body: "I need the numbers asap. Make sure they include March.", Received: at(9, 10, 0)},
		},
		Metrics: []chat.Metric{
			{Name: "visitors", Value: 100, At: at(1, 0, 0)},
			{Name: "visitors", Value: 150, At: at(8, 0, 0)},
			{Name: "signups", Value: 10, At: at(1, 0, 0)},
			{Name: "signups", Value: 10.2, At: at(8, 0, 0)},
		},
	}
}

func callTool(t *testing.T, agentName, toolName, args string) (chat.ToolOutput, error) {
	t.Helper()
	agent, ok := chat.DefaultRegistry().Agent(agentName)
	require.True(t, ok)
	tool, ok := agent.Tool(toolName)
	require.True(t, ok, toolName)
	require.NoError(t, tool.Params.Validate(json.RawMessage(args)), "the test's arguments are valid")
	c := sampleContext()
	return tool.Run(chat.ToolEnv{Context: &c, Now: fixedNow(), Agent: agentName}, json.RawMessage(args))
}

func TestAgentTools(t *testing.T) {
	t.Parallel()
	tests := []struct {
		agent, tool, args string
		wantActions       []chat.Action
		wantSummary       string
		wantErr           string
	}{
		// task
		{agent: "task", tool: "create_task", args: `{"title":" Call the bank ","due":"2026-03-11T10:00:00Z"}`,
			wantActions: []chat.Action{{Type: "create_record", Collection: "tasks", Agent: "task",
				Payload: map[string]any{"title": "Call the bank", "status": "todo", "priority": "medium", "due": "2026-03-11T10:00:00Z"}}},
			wantSummary: `Proposed a new medium-priority task "Call the bank".`},
		{agent: "task", tool: "create_task", args: `{"title":"   "}`, wantErr: "cannot be blank"},
		{agent: "task", tool: "update_task", args: `{"id":"t1","status":"done"}`,
			wantActions: []chat.Action{{Type: "update_record", Collection: "tasks", RecordID: "t1", Agent: "task",
				Payload: map[string]any{"status": "done"}}}},
		{agent: "task", tool: "update_task", args: `{"id":"t9","status":"done"}`, wantErr: `no task with id "t9"`},
		{agent: "task", tool: "update_task", args: `{"id":"t1"}`, wantErr: "nothing to change"},
		{agent: "task", tool: "delete_task", args: `{"id":"t3"}`,
			wantActions: []chat.Action{{Type: "delete_record", Collection: "tasks", RecordID: "t3", Agent: "task"}}},
		{agent: "task", tool: "list_tasks", args: `{"status":"todo"}`, wantSummary: `1 tasks: "Send the invoice".`},
		{agent: "task", tool: "list_tasks", args: `{}`, wantSummary: `3 tasks: "Send the invoice", "Outline chapter 3", "Renew domain".`},
		{agent: "task", tool: "suggest_tasks", args: `{"limit":3}`,
			wantSummary: `3 suggestions: "Finish or reschedule Send the invoice", "Start Outline chapter 3", "Reply to Ada Lovelace <ada@example.com>: Draft feedback".`},
		// calendar
		{agent: "calendar", tool: "list_events", args: `{"from":"2026-03-10T11:00:00Z"}`, wantSummary: `1 events: "Lunch".`},
		{agent: "calendar", tool: "detect_conflicts", args: `{}`, wantSummary: `1 conflicts: "Standup / Editor call".`},
		{agent: "calendar", tool: "suggest_reschedule", args: `{}`,
			wantActions: []chat.Action{{Type: "update_record", Collection: "events", RecordID: "e2", Agent: "calendar",
				Payload: map[string]any{"start": "2026-03-10T09:30:00Z", "end": "2026-03-10T10:15:00Z"}}}},
		{agent: "calendar", tool: "suggest_reschedule", args: `{"event_id":"e3"}`,
			wantActions: []chat.Action{{Type: "update_record", Collection: "events", RecordID: "e3", Agent: "calendar",
				Payload: map[string]any{"start": "2026-03-10T12:00:00Z", "end": "2026-03-10T13:00:00Z"}}}},
		{agent: "calendar", tool: "suggest_reschedule", args: `{"event_id":"nope"}`, wantErr: `no event with id "nope"`},
		// email
		{agent: "email", tool: "classify_email", args: `{}`,
			wantActions: []chat.Action{
				{Type: "update_record", Collection: "emails", RecordID: "m1", Agent: "email", Payload: map[string]any{"category": "general"}},
				{Type: "update_record", Collection: "emails", RecordID: "m2", Agent: "email", Payload: map[string]any{"category": "finance"}},
				{Type: "update_record", Collection: "emails", RecordID: "m3", Agent: "email", Payload: map[string]any{"category": "urgent"}},
			},
			wantSummary: "Classified 3 emails: 1 urgent, 1 finance, 1 general."},
		{agent: "email", tool: "extract_action_items", args: `{"email_id":"m3"}`,
			wantActions: []chat.Action{{Type: "create_record", Collection: "tasks", Agent: "email",
				Payload: map[string]any{"title": "Make sure they include March", "status": "todo", "priority": "high", "sourceEmailId": "m3"}}}},
		{agent: "email", tool: "extract_action_items", args: `{"email_id":"m1"}`,
			wantActions: []chat.Action{
				{Type: "create_record", Collection: "tasks", Agent: "email", Payload: map[string]any{
					"title": "Could you send the final version by Friday", "status": "todo", "priority": "medium", "sourceEmailId": "m1"}},
				{Type: "create_record", Collection: "tasks", Agent: "email", Payload: map[string]any{
					"title": "Please add the chart too", "status": "todo", "priority": "medium", "sourceEmailId": "m1"}},
			},
			wantSummary: `Found 2 action items: "Could you send the final version by Friday", "Please add the chart too".`},
		{agent: "email", tool: "draft_response", args: `{"email_id":"m1","tone":"brief"}`,
			wantActions: []chat.Action{{Type: "create_record", Collection: "drafts", Agent: "email",
				Payload: map[string]any{"emailId": "m1", "to": "Ada Lovelace <ada@example.com>", "subject": "Re: Draft feedback",
					"body": "Hi Ada,\n\nThanks, noted.\n\nBest,\nSam"}}}},
		{agent: "email", tool: "classify_email", args: `{"email_id":"x"}`, wantErr: `no email with id "x"`},
		// analytics
		{agent: "analytics", tool: "get_metrics", args: `{}`, wantSummary: "Latest: signups 10.2, visitors 150."},
		{agent: "analytics", tool: "get_metrics", args: `{"name":"churn"}`, wantErr: `no metric named "churn"`},
		{agent: "analytics", tool: "generate_report", args: `{"title":"Weekly"}`,
			wantActions: []chat.Action{{Type: "index_document", Collection: "documents", Agent: "analytics", Payload: map[string]any{
				"id": "report-20260310T090000Z", "title": "Weekly",
				"text": "Weekly\n\nsignups: latest 10.2, lowest 10, highest 10.2, mean 10.1 over 2 observations\n" +
					"visitors: latest 150, lowest 100, highest 150, mean 125 over 2 observations\n"}}}},
		{agent: "analytics", tool: "analyze_trends", args: `{}`,
			wantActions: []chat.Action{{Type: "send_notification", Collection: "notifications", Agent: "analytics", Payload: map[string]any{
				"title": "visitors went up 50%", "body": "visitors moved from 100 to 150 since 1 Mar 2026."}}},
			wantSummary: "Trends: signups flat 2%, visitors up 50%."},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+tt.args, func(t *testing.T) {
			t.Parallel()
			out, err := callTool(t, tt.agent, tt.tool, tt.args)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantActions, out.Actions)
			if tt.wantSummary != "" {
				require.Equal(t, tt.wantSummary, out.Summary)
			}
			_, err = json.Marshal(out.Data)
			require.NoError(t, err, "the data can be sent to the model")
		})
	}
}

// TestOnlyToolsWithEffectsProposeActions: approval is asked only of tools marked with
// effects, so a tool without them must never propose an action.
func TestOnlyToolsWithEffectsProposeActions(t *testing.T) {
	t.Parallel()
	for _, agent := range chat.DefaultRegistry().Agents() {
		for _, tool := range agent.Tools {
			if tool.Effects {
				continue
			}
			t.Run(agent.Name+"/"+tool.Name, func(t *testing.T) {
				c := sampleContext()
				out, err := tool.Run(chat.ToolEnv{Context: &c, Now: fixedNow(), Agent: agent.Name}, json.RawMessage(`{}`))
				require.NoError(t, err)
				require.Empty(t, out.Actions)
			})
		}
	}
}
