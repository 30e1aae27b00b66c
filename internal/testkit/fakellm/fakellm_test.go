package fakellm_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// waitTimeout bounds waits on the server; reaching it means a bug, not a slow machine.
const waitTimeout = 10 * time.Second

func post(t *testing.T, ctx context.Context, url, body string, header http.Header) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = res.Body.Close() })
	return res
}

func decode(t *testing.T, res *http.Response) map[string]any {
	t.Helper()
	var v map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&v))
	return v
}

// sseEvents reads a whole SSE body and returns the data of each event,
// checking every event is one "data: " line followed by a blank line.
func sseEvents(t *testing.T, body io.Reader) []string {
	t.Helper()
	var events []string
	sc := bufio.NewScanner(body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		require.True(t, ok, "line %q is not a data line", sc.Text())
		require.True(t, sc.Scan(), "event %q is not terminated", data)
		require.Empty(t, sc.Text(), "event %q is followed by %q, not a blank line", data, sc.Text())
		events = append(events, data)
	}
	require.NoError(t, sc.Err())
	return events
}

func waitEnded(t *testing.T, r fakellm.Request) {
	t.Helper()
	select {
	case <-r.Ended:
	case <-time.After(waitTimeout):
		t.Fatal("the server never finished the request")
	}
}

func TestStreamingWireFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		includeUsage bool
	}{
		{"with usage", true},
		{"without usage", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakellm.New(t)
			srv.Reply = func(fakellm.Request) fakellm.Response {
				return fakellm.Response{Content: "Hello brave world", Model: "fake-2024"}
			}
			body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"say hello please"}]}`
			if tt.includeUsage {
				body = `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"say hello please"}]}`
			}

			res := post(t, t.Context(), srv.URL()+"/chat/completions", body, nil)

			require.Equal(t, http.StatusOK, res.StatusCode)
			require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
			events := sseEvents(t, res.Body)
			require.Equal(t, "[DONE]", events[len(events)-1])

			type chunk struct {
				ID      string `json:"id"`
				Object  string `json:"object"`
				Created int64  `json:"created"`
				Model   string `json:"model"`
				Choices []struct {
					Index int `json:"index"`
					Delta struct {
						Role    string  `json:"role"`
						Content *string `json:"content"`
					} `json:"delta"`
					FinishReason *string `json:"finish_reason"`
				} `json:"choices"`
				Usage *fakellm.Usage `json:"usage"`
			}
			var chunks []chunk
			var rawUsage []json.RawMessage
			for _, e := range events[:len(events)-1] {
				var c chunk
				require.NoError(t, json.Unmarshal([]byte(e), &c), e)
				chunks = append(chunks, c)
				var raw map[string]json.RawMessage
				require.NoError(t, json.Unmarshal([]byte(e), &raw))
				rawUsage = append(rawUsage, raw["usage"])
			}
			for _, c := range chunks {
				require.Equal(t, chunks[0].ID, c.ID, "every chunk has the completion's id")
				require.Equal(t, "chat.completion.chunk", c.Object)
				require.Equal(t, "fake-2024", c.Model)
				require.NotZero(t, c.Created)
			}

			// Role first, one delta per word, then the finish reason.
			require.Equal(t, "assistant", chunks[0].Choices[0].Delta.Role)
			var text []string
			for _, c := range chunks[1:4] {
				require.Len(t, c.Choices, 1)
				require.Nil(t, c.Choices[0].FinishReason)
				text = append(text, *c.Choices[0].Delta.Content)
			}
			require.Equal(t, []string{"Hello ", "brave ", "world"}, text)
			finish := chunks[4]
			require.NotNil(t, finish.Choices[0].FinishReason)
			require.Equal(t, "stop", *finish.Choices[0].FinishReason)

			if !tt.includeUsage {
				require.Len(t, chunks, 5)
				for _, u := range rawUsage {
					require.Nil(t, u, "no usage field without include_usage")
				}
				return
			}
			require.Len(t, chunks, 6)
			for _, u := range rawUsage[:5] {
				require.JSONEq(t, "null", string(u), "usage is null on content chunks")
			}
			last := chunks[5]
			require.NotNil(t, last.Choices, "choices is an empty array, not absent")
			require.Empty(t, last.Choices)
			require.Equal(t, &fakellm.Usage{PromptTokens: 3, CompletionTokens: 3, TotalTokens: 6}, last.Usage)
		})
	}
}

func TestStreamingToolCallChunks(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Chunks: []fakellm.Chunk{
			{ToolCalls: []fakellm.ToolCallDelta{{Index: 0, ID: "call_1", Name: "lookup", Arguments: `{"q":`}}},
			{ToolCalls: []fakellm.ToolCallDelta{{Index: 0, Arguments: `"go"}`}}},
		}}
	}

	res := post(t, t.Context(), srv.URL()+"/chat/completions",
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)

	events := sseEvents(t, res.Body)
	require.Len(t, events, 5) // role, two fragments, finish, [DONE]
	first := events[1]
	require.JSONEq(t, `[{"index":0,"id":"call_1","type":"function","function":{"name":"lookup","arguments":"{\"q\":"}}]`,
		jsonField(t, first, "choices", 0, "delta", "tool_calls"))
	require.JSONEq(t, `[{"index":0,"function":{"arguments":"\"go\"}"}}]`,
		jsonField(t, events[2], "choices", 0, "delta", "tool_calls"))
	require.JSONEq(t, `"tool_calls"`, jsonField(t, events[3], "choices", 0, "finish_reason"))
}

// jsonField returns the JSON at path (object keys and array indexes) in doc.
func jsonField(t *testing.T, doc string, path ...any) string {
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

func TestNonStreamingWireFormat(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Content: `{"a": 1}`} }

	res := post(t, t.Context(), srv.URL()+"/chat/completions",
		`{"model":"gpt-x","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}`, nil)

	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "application/json", res.Header.Get("Content-Type"))
	got := decode(t, res)
	require.Regexp(t, `^chatcmpl-`, got["id"])
	require.NotZero(t, got["created"])
	delete(got, "id")
	delete(got, "created")
	want := `{
		"object": "chat.completion",
		"model": "gpt-x",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": "{\"a\": 1}", "refusal": null},
		             "logprobs": null, "finish_reason": "stop"}],
		"usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
	}`
	b, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, want, string(b))
}

func TestRecordsRequests(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	base := strings.TrimSuffix(srv.URL(), "/v1")

	// Without the /v1 prefix too, and with content as an array of parts.
	res := post(t, t.Context(), base+"/chat/completions",
		`{"model":"m","temperature":0.5,"response_format":{"type":"json_object"},"messages":[
			{"role":"system","content":[{"type":"text","text":"answer in "},{"type":"text","text":"JSON"}]},
			{"role":"user","content":"hi"}]}`,
		http.Header{"X-Trace": {"abc"}})
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "ok", jsonFieldOf(t, res, "choices", 0, "message", "content"))

	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/chat/completions", r.Path)
	require.Equal(t, "abc", r.Header.Get("X-Trace"))
	require.Equal(t, "m", r.Body.Model)
	require.Equal(t, []fakellm.Message{
		{Role: "system", Content: "answer in JSON"},
		{Role: "user", Content: "hi"},
	}, r.Body.Messages)
	require.Equal(t, &fakellm.ResponseFormat{Type: "json_object"}, r.Body.ResponseFormat)
	require.False(t, r.Body.Stream)
	require.JSONEq(t, "0.5", jsonField(t, string(r.Raw), "temperature"))
	waitEnded(t, r)
	require.False(t, r.Canceled())
}

func jsonFieldOf(t *testing.T, res *http.Response, path ...any) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	var s string
	require.NoError(t, json.Unmarshal([]byte(jsonField(t, string(b), path...)), &s))
	return s
}

func TestErrors(t *testing.T) {
	t.Parallel()
	const chat = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`
	tests := []struct {
		name       string
		opts       []fakellm.Option
		reply      fakellm.Response
		method     string
		path       string
		body       string
		header     http.Header
		wantStatus int
		wantError  string // the error object, as JSON
	}{
		{
			name: "missing key", opts: []fakellm.Option{fakellm.WithAPIKey("sk-right-key-1234")},
			path: "/chat/completions", body: chat, wantStatus: http.StatusUnauthorized,
			wantError: `{"message":"You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).","type":"invalid_request_error","param":null,"code":null}`,
		},
		{
			name: "wrong key", opts: []fakellm.Option{fakellm.WithAPIKey("sk-right-key-1234")},
			path: "/models", method: http.MethodGet, header: http.Header{"Authorization": {"Bearer sk-wrong-key-9876"}},
			wantStatus: http.StatusUnauthorized,
			wantError:  `{"message":"Incorrect API key provided: sk-*****9876.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}`,
		},
		{
			name: "scripted status", reply: fakellm.Response{Status: http.StatusTooManyRequests, Error: &fakellm.APIError{
				Message: "Rate limit reached", Type: "requests", Code: "rate_limit_exceeded",
			}},
			path: "/chat/completions", body: chat, wantStatus: http.StatusTooManyRequests,
			wantError: `{"message":"Rate limit reached","type":"requests","param":null,"code":"rate_limit_exceeded"}`,
		},
		{
			name: "scripted status with default error", reply: fakellm.Response{Status: http.StatusBadGateway},
			path: "/chat/completions", body: chat, wantStatus: http.StatusBadGateway,
			wantError: `{"message":"Bad Gateway","type":"server_error","param":null,"code":null}`,
		},
		{
			name: "unknown path", path: "/audio/speech", body: chat, wantStatus: http.StatusNotFound,
			wantError: `{"message":"Invalid URL (POST /v1/audio/speech)","type":"invalid_request_error","param":null,"code":null}`,
		},
		{
			name: "wrong method", method: http.MethodGet, path: "/chat/completions", wantStatus: http.StatusMethodNotAllowed,
			wantError: `{"message":"Method GET not allowed for /v1/chat/completions","type":"invalid_request_error","param":null,"code":null}`,
		},
		{
			name: "no model", path: "/chat/completions", body: `{"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: http.StatusBadRequest,
			wantError:  `{"message":"you must provide a model parameter","type":"invalid_request_error","param":null,"code":null}`,
		},
		{
			name: "json_object without mentioning json", path: "/chat/completions",
			body:       `{"model":"m","response_format":{"type":"json_object"},"messages":[{"role":"user","content":"hi"}]}`,
			wantStatus: http.StatusBadRequest,
			wantError:  `{"message":"'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.","type":"invalid_request_error","param":null,"code":null}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakellm.New(t, tt.opts...)
			srv.Reply = func(fakellm.Request) fakellm.Response { return tt.reply }
			method := tt.method
			if method == "" {
				method = http.MethodPost
			}
			req, err := http.NewRequestWithContext(t.Context(), method, srv.URL()+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			for k, vs := range tt.header {
				req.Header[k] = vs
			}

			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()

			require.Equal(t, tt.wantStatus, res.StatusCode)
			require.Equal(t, "application/json", res.Header.Get("Content-Type"))
			b, err := io.ReadAll(res.Body)
			require.NoError(t, err)
			require.JSONEq(t, tt.wantError, jsonField(t, string(b), "error"))
			require.Len(t, srv.Requests(), 1, "rejected requests are recorded too")
		})
	}
}

func TestRequiredKeyAccepted(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-right"), fakellm.WithModel("llama3"))
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL()+"/models", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer sk-right")

	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()

	require.Equal(t, http.StatusOK, res.StatusCode)
	got := decode(t, res)
	require.Equal(t, "list", got["object"])
	data := got["data"].([]any)
	require.Len(t, data, 1)
	require.Equal(t, "llama3", data[0].(map[string]any)["id"])
	require.Equal(t, "model", data[0].(map[string]any)["object"])
}

func TestVerbatimBodyAndHeaders(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{
			Status: http.StatusBadGateway,
			Body:   "<html>proxy error</html>",
			Header: http.Header{"Content-Type": {"text/html"}, "Retry-After-Ms": {"5"}},
		}
	}

	res := post(t, t.Context(), srv.URL()+"/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, nil)

	require.Equal(t, http.StatusBadGateway, res.StatusCode)
	require.Equal(t, "text/html", res.Header.Get("Content-Type"))
	require.Equal(t, "5", res.Header.Get("Retry-After-Ms"))
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Equal(t, "<html>proxy error</html>", string(b))
}

// TestHoldStreamingUntilCanceled is the shape of a chat cancellation test: the
// client reads the chunks sent so far, goes away, and the server sees it.
func TestHoldStreamingUntilCanceled(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Chunks: []fakellm.Chunk{{Content: "partial"}}, Hold: true}
	}
	ctx, cancel := context.WithCancel(t.Context())
	res := post(t, ctx, srv.URL()+"/chat/completions",
		`{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`, nil)
	br := bufio.NewReader(res.Body)
	for _, want := range []string{`"role":"assistant"`, `"content":"partial"`} {
		line, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Contains(t, line, want)
		blank, err := br.ReadString('\n')
		require.NoError(t, err)
		require.Equal(t, "\n", blank)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	select {
	case <-reqs[0].Ended:
		t.Fatal("a held request ended before the client went away")
	default:
	}

	cancel()

	waitEnded(t, reqs[0])
	require.True(t, reqs[0].Canceled())
}

// TestHeldRequestReleasedAtCleanup checks a hold the client never cancels
// does not hang the test's cleanup.
func TestHeldRequestReleasedAtCleanup(t *testing.T) {
	t.Parallel()
	var ended <-chan struct{}
	posted := make(chan struct{})
	t.Run("holder", func(t *testing.T) {
		srv := fakellm.New(t)
		arrived := make(chan struct{})
		srv.Reply = func(fakellm.Request) fakellm.Response {
			close(arrived)
			return fakellm.Response{Hold: true}
		}
		go func() {
			defer close(posted)
			// What the client gets once the server closes does not matter.
			res, err := http.Post(srv.URL()+"/chat/completions", "application/json",
				strings.NewReader(`{"model":"m","messages":[{"role":"user","content":"hi"}]}`))
			if err == nil {
				_ = res.Body.Close()
			}
		}()
		select {
		case <-arrived:
		case <-time.After(waitTimeout):
			t.Fatal("the request never reached the server")
		}
		ended = srv.Requests()[0].Ended
	})
	select {
	case <-ended:
	default:
		t.Fatal("cleanup returned while the held request was still running")
	}
	select {
	case <-posted:
	case <-time.After(waitTimeout):
		t.Fatal("the client never got an answer after the server closed")
	}
}

// TestOpenAIClientCompatibility runs the real SDK against the fake, so the
// fake's wire format is the one the SDK decodes.
func TestOpenAIClientCompatibility(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-test"))
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Content: "one two three"} }
	chat := openai.NewChatCompletionService(
		option.WithBaseURL(srv.URL()), option.WithAPIKey("sk-test"), option.WithMaxRetries(0))
	params := openai.ChatCompletionNewParams{
		Model:    "m",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("count")},
	}

	t.Run("complete", func(t *testing.T) {
		res, err := chat.New(t.Context(), params)
		require.NoError(t, err)
		require.Len(t, res.Choices, 1)
		require.Equal(t, "one two three", res.Choices[0].Message.Content)
		require.Equal(t, "stop", res.Choices[0].FinishReason)
		require.EqualValues(t, 3, res.Usage.CompletionTokens)
	})
	t.Run("stream", func(t *testing.T) {
		p := params
		p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		stream := chat.NewStreaming(t.Context(), p)
		defer stream.Close()
		var acc openai.ChatCompletionAccumulator
		var deltas []string
		for stream.Next() {
			c := stream.Current()
			acc.AddChunk(c)
			if len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
				deltas = append(deltas, c.Choices[0].Delta.Content)
			}
		}
		require.NoError(t, stream.Err())
		require.Equal(t, []string{"one ", "two ", "three"}, deltas)
		require.Equal(t, "one two three", acc.Choices[0].Message.Content)
		require.Equal(t, "stop", acc.Choices[0].FinishReason)
		require.EqualValues(t, 3, acc.Usage.CompletionTokens)
	})
	t.Run("wrong key", func(t *testing.T) {
		wrong := openai.NewChatCompletionService(option.WithBaseURL(srv.URL()), option.WithAPIKey("sk-nope"),
			option.WithMaxRetries(0))
		_, err := wrong.New(t.Context(), params)
		var apiErr *openai.Error
		require.ErrorAs(t, err, &apiErr)
		require.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
		require.Equal(t, "invalid_api_key", apiErr.Code)
	})
}
