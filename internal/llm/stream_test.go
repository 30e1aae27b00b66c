package llm_test

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// drain reads a stream to its end, failing the test if it never ends.
func drain(t *testing.T, chunks iter.Seq[llm.Chunk]) []llm.Chunk {
	t.Helper()
	var got []llm.Chunk
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		for c := range chunks {
			got = append(got, c)
		}
	}()
	select {
	case <-ended:
		return got
	case <-time.After(waitTimeout):
		t.Fatal("the stream never ended")
		return nil
	}
}

func texts(chunks []llm.Chunk) []string {
	var out []string
	for _, c := range chunks {
		if c.Text != "" {
			out = append(out, c.Text)
		}
	}
	return out
}

func TestStreamText(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-1"))
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "Hello brave new world", Model: "fake-2024",
			Usage: &fakellm.Usage{PromptTokens: 7, CompletionTokens: 4, TotalTokens: 11}}
	}
	c := newClient(t, llm.Config{BaseURL: srv.URL(), APIKey: "sk-1", Model: "m1"})
	temp := 0.25

	ch, err := c.Stream(t.Context(), llm.Request{
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "be brief"},
			{Role: llm.RoleUser, Content: "hi"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "lookup", Arguments: `{"q":"go"}`}}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"summary":"found"}`},
		},
		Tools: []llm.Tool{{Name: "lookup", Description: "Look things up", Parameters: map[string]any{
			"type": "object", "properties": map[string]any{"q": map[string]any{"type": "string"}}, "required": []string{"q"},
		}}},
		ToolChoice:  llm.ToolChoice{Mode: llm.ToolChoiceRequired},
		MaxTokens:   100,
		Temperature: &temp,
	})
	require.NoError(t, err)
	chunks := drain(t, ch)

	require.Equal(t, []string{"Hello ", "brave ", "new ", "world"}, texts(chunks))
	last := chunks[len(chunks)-1]
	require.NoError(t, last.Err)
	require.Equal(t, &llm.Done{
		FinishReason: "stop",
		Usage:        &models.Usage{PromptTokens: 7, CompletionTokens: 4, TotalTokens: 11},
		Provider:     "openai-compatible", Model: "fake-2024",
	}, last.Done)

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	body := reqs[0].Body
	require.True(t, body.Stream)
	require.Equal(t, &fakellm.StreamOptions{IncludeUsage: true}, body.StreamOptions)
	require.Equal(t, "m1", body.Model)
	require.Equal(t, []fakellm.Message{
		{Role: "system", Content: "be brief"},
		{Role: "user", Content: "hi"},
		{Role: "assistant"},
		{Role: "tool", Content: `{"summary":"found"}`, ToolCallID: "call_1"},
	}, body.Messages)
	raw := string(reqs[0].Raw)
	require.JSONEq(t, `[{"type":"function","function":{"name":"lookup","description":"Look things up",
		"parameters":{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}}}]`,
		jsonAt(t, raw, "tools"))
	require.JSONEq(t, `"required"`, jsonAt(t, raw, "tool_choice"))
	require.JSONEq(t, `100`, jsonAt(t, raw, "max_tokens"))
	require.JSONEq(t, `0.25`, jsonAt(t, raw, "temperature"))
	require.JSONEq(t, `[{"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":\"go\"}"}}]`,
		jsonAt(t, jsonAt(t, raw, "messages"), 2, "tool_calls"))
}

func TestStreamNamedToolChoice(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	c := newClient(t, llm.Config{BaseURL: srv.URL()})
	ch, err := c.Stream(t.Context(), llm.Request{
		Messages:   []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
		Tools:      []llm.Tool{{Name: "lookup", Parameters: map[string]any{"type": "object"}}},
		ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceFunction, Function: "lookup"},
	})
	require.NoError(t, err)
	drain(t, ch)
	require.JSONEq(t, `{"type":"function","function":{"name":"lookup"}}`,
		jsonAt(t, string(srv.Requests()[0].Raw), "tool_choice"))
}

func TestStreamAssemblesToolCalls(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Chunks: []fakellm.Chunk{
			{Content: "Let me look. "},
			{ToolCalls: []fakellm.ToolCallDelta{{Index: 0, ID: "call_a", Name: "lookup", Arguments: `{"q":`}}},
			{ToolCalls: []fakellm.ToolCallDelta{{Index: 0, Arguments: `"go"}`}}},
			{ToolCalls: []fakellm.ToolCallDelta{{Index: 1, ID: "call_b", Name: "list_tasks", Arguments: `{}`}}},
		}}
	}
	c := newClient(t, llm.Config{BaseURL: srv.URL()})

	ch, err := c.Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	chunks := drain(t, ch)

	require.Equal(t, []string{"Let me look. "}, texts(chunks))
	done := chunks[len(chunks)-1].Done
	require.NotNil(t, done)
	require.Equal(t, "tool_calls", done.FinishReason)
	require.Equal(t, []llm.ToolCall{
		{ID: "call_a", Name: "lookup", Arguments: `{"q":"go"}`},
		{ID: "call_b", Name: "list_tasks", Arguments: `{}`},
	}, done.ToolCalls)
	require.Equal(t, &models.Usage{PromptTokens: 1, CompletionTokens: 4, TotalTokens: 5}, done.Usage)
}

// TestStreamCancel proves a canceled context ends the upstream request at
// once: the fake holds the stream open until the client goes away.
func TestStreamCancel(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "partial "}}, Hold: true}
	}
	c := newClient(t, llm.Config{BaseURL: srv.URL()})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	chunks, err := c.Stream(ctx, llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	next, stop := iter.Pull(chunks)
	defer stop()
	first, _ := next()
	require.Equal(t, "partial ", first.Text)
	req := srv.Requests()[0]
	select {
	case <-req.Ended:
		t.Fatal("the held request ended before the cancel")
	default:
	}

	cancel()

	waitEnded(t, req)
	require.True(t, req.Canceled(), "the upstream request was abandoned, not completed")
	for c, ok := next(); ok; c, ok = next() {
		require.Nil(t, c.Done, "no answer after a cancel")
	}
}

func TestStreamMidStreamFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string
	}{
		{
			name: "error event",
			body: sse(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`,
				`{"error":{"message":"The server had an error while processing your request.","type":"server_error"}}`),
			want: "the LLM provider failed while answering",
		},
		{
			name: "cut off",
			body: sse(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"}}]}`),
			want: "broke off",
		},
		{
			name: "malformed chunk",
			body: sse(`{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hel"}}]}`, `{not json`),
			want: "broke off",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakellm.New(t)
			srv.Reply = func(fakellm.Request) fakellm.Response {
				return fakellm.Response{Body: tt.body, Header: http.Header{"Content-Type": {"text/event-stream"}}}
			}
			c := newClient(t, llm.Config{BaseURL: srv.URL()})

			ch, err := c.Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			require.NoError(t, err)
			chunks := drain(t, ch)

			require.Len(t, chunks, 2)
			require.Equal(t, "Hel", chunks[0].Text)
			last := chunks[1]
			require.Nil(t, last.Done)
			require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(last.Err))
			require.Contains(t, models.ErrorMessage(last.Err), tt.want)
			require.NotContains(t, models.ErrorMessage(last.Err), "processing your request", "the provider's words stay out")
			require.Len(t, srv.Requests(), 1, "nothing is retried once the answer began")
		})
	}
}

func TestStreamErrorsBeforeTheAnswer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		reply        fakellm.Response
		wantMessage  string
		wantRequests int
	}{
		{
			name:        "server error is retried once",
			reply:       fakellm.Response{Status: http.StatusBadGateway, Header: http.Header{"Retry-After-Ms": {"0"}}},
			wantMessage: "the LLM provider failed (HTTP 502)", wantRequests: 2,
		},
		{
			name:        "unknown model",
			reply:       fakellm.Response{Status: http.StatusNotFound},
			wantMessage: `does not know model "gpt-4o-mini"`, wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakellm.New(t)
			srv.Reply = func(fakellm.Request) fakellm.Response { return tt.reply }
			c := newClient(t, llm.Config{BaseURL: srv.URL()})

			ch, err := c.Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})

			require.Nil(t, ch)
			require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
			require.Contains(t, models.ErrorMessage(err), tt.wantMessage)
			require.Len(t, srv.Requests(), tt.wantRequests)
		})
	}
}

func TestStreamIdleTimeout(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "partial "}}, Hold: true}
	}
	// The same timeout first bounds the wait for the answer's headers: it must be
	// long enough for a loaded CI machine to deliver them (100 ms was not, under
	// -race beside other suites), and the test then waits it out once.
	c := newClient(t, llm.Config{BaseURL: srv.URL(), Timeout: time.Second})

	ch, err := c.Stream(t.Context(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	require.NoError(t, err)
	chunks := drain(t, ch)

	require.Len(t, chunks, 2)
	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(chunks[1].Err))
	require.Contains(t, models.ErrorMessage(chunks[1].Err), "sent nothing for 1s")
	req := srv.Requests()[0]
	waitEnded(t, req)
	require.True(t, req.Canceled())
}

func TestStreamRejectsBadRequests(t *testing.T) {
	t.Parallel()
	c := newClient(t, llm.Config{BaseURL: "http://127.0.0.1:1/v1"})
	for name, req := range map[string]llm.Request{
		"no messages":       {},
		"unknown role":      {Messages: []llm.Message{{Role: "narrator", Content: "x"}}},
		"tool without call": {Messages: []llm.Message{{Role: llm.RoleTool, Content: "x"}}},
	} {
		_, err := c.Stream(t.Context(), req)
		require.Equal(t, models.CodeInternal, models.ErrorCode(err), name)
	}
}

func TestClientInfo(t *testing.T) {
	t.Parallel()
	c := newClient(t, llm.Config{BaseURL: "http://127.0.0.1:1/v1", Model: "llama3.2"})
	require.Equal(t, llm.Info{Provider: "openai-compatible", Model: "llama3.2"}, c.Info())
}

func sse(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString("data: " + e + "\n\n")
	}
	return b.String()
}

// jsonAt returns the JSON at path (object keys and array indexes) in doc.
func jsonAt(t *testing.T, doc string, path ...any) string {
	t.Helper()
	var v any
	require.NoError(t, json.Unmarshal([]byte(doc), &v))
	for _, p := range path {
		switch p := p.(type) {
		case string:
			v = v.(map[string]any)[p]
		case int:
			v = v.([]any)[p]
		}
	}
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func waitEnded(t *testing.T, r fakellm.Request) {
	t.Helper()
	select {
	case <-r.Ended:
	case <-time.After(waitTimeout):
		t.Fatal("the request never ended")
	}
}

// TestStreamOneFirstByteDeadlinePerRun makes two calls in one run against a model that
// never starts answering: the first waits the timeout, and the second, finding the
// run's deadline passed, fails at once without asking. Once a piece of an answer has
// come, a later call is asked again.
func TestStreamOneFirstByteDeadlinePerRun(t *testing.T) {
	t.Parallel()
	const timeout = time.Second // long beside scheduling noise, so the bound below is safe
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Hold: true} }
	c := newClient(t, llm.Config{BaseURL: srv.URL(), Timeout: timeout})
	req := llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
	ctx := llm.WithFirstByteDeadline(t.Context())

	start := time.Now()
	ch, err := c.Stream(ctx, req)
	require.NoError(t, err)
	chunks := drain(t, ch)
	require.Len(t, chunks, 1)
	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(chunks[0].Err))
	_, err = c.Stream(ctx, req)
	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
	require.Contains(t, models.ErrorMessage(err), "sent nothing for 1s")
	require.Less(t, time.Since(start), timeout*18/10, "one timeout for the run, not one per call")
	require.Len(t, srv.Requests(), 1, "the second call is not made")

	// After a first byte, each call waits its own timeout again.
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Content: "ok"} }
	ctx = llm.WithFirstByteDeadline(t.Context())
	ch, err = c.Stream(ctx, req)
	require.NoError(t, err)
	require.Equal(t, []string{"ok"}, texts(drain(t, ch)))
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Hold: true} }
	ch, err = c.Stream(ctx, req)
	require.NoError(t, err)
	chunks = drain(t, ch)
	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(chunks[len(chunks)-1].Err))
	require.Len(t, srv.Requests(), 3, "the call after an answer is made")
}
