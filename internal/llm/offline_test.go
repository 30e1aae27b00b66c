package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/models"
)

var offlineTools = []llm.Tool{
	{Name: "update_task", Description: "Update a task", Parameters: map[string]any{
		"type": "object", "required": []string{"id"},
		"properties": map[string]any{"id": map[string]any{"type": "string"}},
	}},
	{Name: "create_task", Description: "Create a new task", Parameters: map[string]any{
		"type": "object", "required": []string{"title", "priority"},
		"properties": map[string]any{
			"title":    map[string]any{"type": "string", "maxLength": 20},
			"priority": map[string]any{"type": "string", "enum": []string{"medium", "high"}},
		},
	}},
	{Name: "list_events", Description: "List calendar events", Parameters: map[string]any{"type": "object"}},
}

func TestOfflineDeterministic(t *testing.T) {
	t.Parallel()
	req := llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You help."},
		{Role: llm.RoleUser, Content: "What is on my plate today?"},
	}}
	var first []llm.Chunk
	for i := range 3 {
		ch, err := llm.NewOffline().Stream(t.Context(), req)
		require.NoError(t, err)
		got := drain(t, ch)
		if i == 0 {
			first = got
			continue
		}
		require.Equal(t, first, got, "the same request, the same answer")
	}
	words := texts(first)
	require.Greater(t, len(words), 5, "streamed word by word")
	for _, w := range words[:len(words)-1] {
		require.Len(t, strings.Fields(w), 1)
	}
	done := first[len(first)-1].Done
	require.NotNil(t, done)
	require.True(t, done.Offline)
	require.Equal(t, "offline", done.Provider)
	require.Equal(t, llm.OfflineModel, done.Model)
	require.Equal(t, "stop", done.FinishReason)
	require.Equal(t, &models.Usage{PromptTokens: 8, CompletionTokens: len(words), TotalTokens: 8 + len(words)}, done.Usage)
	require.Contains(t, strings.Join(words, ""), "What is on my plate today?")
	require.Equal(t, llm.Info{Provider: "offline", Model: llm.OfflineModel, Offline: true}, llm.NewOffline().Info())
}

func TestOfflineToolChoice(t *testing.T) {
	t.Parallel()
	user := llm.Message{Role: llm.RoleUser, Content: "Create a task: call the bank about the loan"}
	tests := []struct {
		name      string
		req       llm.Request
		wantCalls []llm.ToolCall
		wantText  string
	}{
		{
			name: "best matching tool, required arguments filled",
			req:  llm.Request{Messages: []llm.Message{user}, Tools: offlineTools},
			wantCalls: []llm.ToolCall{{ID: "call_offline_1", Name: "create_task",
				Arguments: `{"priority":"medium","title":"Create a task: call "}`}},
		},
		{
			name: "no overlap, no call",
			req: llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello there"}},
				Tools: offlineTools},
			wantText: "Offline answer: no language model",
		},
		{
			name: "required picks the first callable tool",
			req: llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hello there"}},
				Tools: offlineTools, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceRequired}},
			wantCalls: []llm.ToolCall{{ID: "call_offline_1", Name: "create_task",
				Arguments: `{"priority":"medium","title":"hello there"}`}},
		},
		{
			name:     "tool choice none answers in text",
			req:      llm.Request{Messages: []llm.Message{user}, Tools: offlineTools, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}},
			wantText: "Offline answer: no language model",
		},
		{
			name: "tool results are summarised",
			req: llm.Request{Tools: offlineTools, Messages: []llm.Message{
				user,
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_offline_1", Name: "create_task", Arguments: `{}`}}},
				{Role: llm.RoleTool, ToolCallID: "call_offline_1", Content: `{"summary":"Created task \"call the bank\".","id":"t1"}`},
			}},
			wantText: `Offline answer. create_task: Created task "call the bank".`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ch, err := llm.NewOffline().Stream(t.Context(), tt.req)
			require.NoError(t, err)
			chunks := drain(t, ch)
			done := chunks[len(chunks)-1].Done
			require.NotNil(t, done)
			require.Equal(t, tt.wantCalls, done.ToolCalls)
			if tt.wantCalls != nil {
				require.Equal(t, "tool_calls", done.FinishReason)
				require.Empty(t, texts(chunks))
				return
			}
			require.Contains(t, strings.Join(texts(chunks), ""), tt.wantText)
		})
	}
}

func TestOfflineMaxTokensAndCancel(t *testing.T) {
	t.Parallel()
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}, MaxTokens: 3}
	ch, err := llm.NewOffline().Stream(t.Context(), req)
	require.NoError(t, err)
	chunks := drain(t, ch)
	require.Len(t, texts(chunks), 3)
	require.Equal(t, "length", chunks[len(chunks)-1].Done.FinishReason)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err = llm.NewOffline().Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	var after []llm.Chunk
	for c := range ch {
		if after == nil {
			cancel() // after the first word
		}
		after = append(after, c)
	}
	require.Len(t, after, 1, "the stream ends with its context")

	_, err = llm.NewOffline().Stream(t.Context(), llm.Request{})
	require.Error(t, err)
}

func TestCollect(t *testing.T) {
	t.Parallel()
	ch, err := llm.NewOffline().Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	text, done, err := llm.Collect(t.Context(), ch)
	require.NoError(t, err)
	require.True(t, done.Offline)
	require.True(t, strings.HasPrefix(text, "Offline answer:"))
}

func TestEstimate(t *testing.T) {
	t.Parallel()
	req := llm.Request{Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: strings.Repeat("a", 400)},
		{Role: llm.RoleUser, Content: "hi"},
	}}
	u := llm.Estimate(req, strings.Repeat("b", 41))
	require.Equal(t, models.Usage{PromptTokens: 4 + 100 + 4 + 1, CompletionTokens: 11, TotalTokens: 120}, u)
	require.Zero(t, llm.Estimate(llm.Request{}, "").TotalTokens)
	withTools := llm.Estimate(llm.Request{Messages: req.Messages, Tools: []llm.Tool{{Name: "list_tasks",
		Description: "Lists the tasks.", Parameters: map[string]any{"type": "object"}}}}, "")
	require.Greater(t, withTools.PromptTokens, u.PromptTokens, "tool definitions are part of the prompt")
}

func TestOfflineGrounded(t *testing.T) {
	t.Parallel()
	passages := []llm.Passage{
		{N: 1, Title: "Coffee", Text: "Espresso is pressed at nine bars."},
		{N: 2, Title: "Tea", Text: "Green tea is delicate.\nSteep green tea for two minutes. Longer makes it bitter."},
	}
	answer := func(question string, tools []llm.Tool) string {
		t.Helper()
		seq, err := llm.NewOffline().Stream(context.Background(), llm.Request{
			Messages:  []llm.Message{{Role: llm.RoleSystem, Content: "passages…"}, {Role: llm.RoleUser, Content: question}},
			Grounding: passages, Tools: tools,
		})
		require.NoError(t, err)
		text, done, err := llm.Collect(context.Background(), seq)
		require.NoError(t, err)
		require.Empty(t, done.ToolCalls, "grounded, it answers from the passages rather than a tool")
		return text
	}
	require.Equal(t, `Offline answer from your documents: "Steep green tea for two minutes." [2]`,
		answer("How many minutes should green tea steep?", offlineTools))
	require.Equal(t, `Offline answer: no language model is configured, and no passage of your documents shares a word `+
		`with the question. The closest passage says: "Espresso is pressed at nine bars." [1]`, answer("Create a task", offlineTools))
}
