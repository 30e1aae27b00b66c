package llm_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/llm"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
	"github.com/inkgraph/inkgraph/models"
)

// waitTimeout bounds waits in tests; reaching it means a bug, not a slow machine.
const waitTimeout = 10 * time.Second

const (
	system = "You analyse websites. Answer with one JSON object."
	prompt = "Describe https://example.com"
)

func newClient(t *testing.T, cfg llm.Config) *llm.Client {
	t.Helper()
	c, err := llm.New(cfg)
	require.NoError(t, err)
	return c
}

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       llm.Config
		wantField string // "" when New succeeds
	}{
		{"openai", llm.Config{BaseURL: "https://api.openai.com/v1"}, ""},
		{"ollama", llm.Config{BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.2"}, ""},
		{"empty", llm.Config{}, "baseURL"},
		{"no scheme", llm.Config{BaseURL: "localhost:11434/v1"}, "baseURL"},
		{"other scheme", llm.Config{BaseURL: "ftp://example.com/v1"}, "baseURL"},
		{"no host", llm.Config{BaseURL: "http:///v1"}, "baseURL"},
		{"unparsable", llm.Config{BaseURL: "http://[::1"}, "baseURL"},
		{"negative timeout", llm.Config{BaseURL: "http://127.0.0.1/v1", Timeout: -time.Second}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := llm.New(tt.cfg)
			if tt.wantField == "" {
				require.NoError(t, err)
				require.NotNil(t, c)
				return
			}
			require.Nil(t, c)
			require.Equal(t, models.CodeBadUserInput, models.ErrorCode(err))
			var e *models.Error
			require.ErrorAs(t, err, &e)
			require.Equal(t, tt.wantField, e.Field)
		})
	}
}

func TestModel(t *testing.T) {
	t.Parallel()
	require.Equal(t, "gpt-4o-mini", newClient(t, llm.Config{BaseURL: "http://127.0.0.1/v1"}).Model())
	require.Equal(t, "llama3.2", newClient(t, llm.Config{BaseURL: "http://127.0.0.1/v1", Model: "llama3.2"}).Model())
}

func TestCompleteJSON(t *testing.T) {
	t.Parallel()
	const key = "sk-test-0123456789"
	srv := fakellm.New(t, fakellm.WithAPIKey(key))
	srv.Reply = func(fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: `{"industry": "software"}`, Model: "gpt-4o-mini-2024-07-18"}
	}
	c := newClient(t, llm.Config{BaseURL: srv.URL(), APIKey: key})

	text, model, err := c.CompleteJSON(t.Context(), system, prompt)

	require.NoError(t, err)
	require.JSONEq(t, `{"industry": "software"}`, text)
	require.Equal(t, "gpt-4o-mini-2024-07-18", model, "the model that answered, not the one asked")
	reqs := srv.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, http.MethodPost, r.Method)
	require.Equal(t, "/v1/chat/completions", r.Path)
	require.Equal(t, "Bearer "+key, r.Header.Get("Authorization"))
	require.Equal(t, "gpt-4o-mini", r.Body.Model)
	require.Equal(t, []fakellm.Message{
		{Role: "system", Content: system},
		{Role: "user", Content: prompt},
	}, r.Body.Messages)
	require.Equal(t, &fakellm.ResponseFormat{Type: "json_object"}, r.Body.ResponseFormat)
	require.False(t, r.Body.Stream)
}

// TestCompleteJSONIgnoresEnvironment is not parallel: it sets the variables
// the SDK's own client would read, to show this one does not.
func TestCompleteJSONIgnoresEnvironment(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "sk-from-the-environment")
	t.Setenv("OPENAI_BASE_URL", "http://127.0.0.1:1/v1")
	t.Setenv("OPENAI_ORG_ID", "org-from-the-environment")
	srv := fakellm.New(t)
	c := newClient(t, llm.Config{BaseURL: srv.URL(), Model: "llama3.2"})
	srv.Reply = func(fakellm.Request) fakellm.Response { return fakellm.Response{Content: `{}`} }

	_, model, err := c.CompleteJSON(t.Context(), "", "Answer in JSON: {}")

	require.NoError(t, err)
	require.Equal(t, "llama3.2", model)
	r := srv.Requests()[0]
	require.NotContains(t, r.Header, "Authorization", "no key configured, none sent")
	require.NotContains(t, r.Header, "Openai-Organization")
	require.Equal(t, []fakellm.Message{{Role: "user", Content: "Answer in JSON: {}"}}, r.Body.Messages,
		"an empty system message is left out")
}

func TestCompleteJSONAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		reply     fakellm.Response
		wantText  string
		wantModel string
	}{
		{
			name:     "surrounding space",
			reply:    fakellm.Response{Content: "\n  {\"a\": 1}\n"},
			wantText: `{"a": 1}`, wantModel: "gpt-4o-mini",
		},
		{
			name:     "fenced",
			reply:    fakellm.Response{Content: "```json\n{\"a\": [1, 2]}\n```"},
			wantText: `{"a": [1, 2]}`, wantModel: "gpt-4o-mini",
		},
		{
			name:     "no model in the answer",
			reply:    fakellm.Response{Body: `{"id":"x","object":"chat.completion","created":1,"choices":[{"index":0,"message":{"role":"assistant","content":"{}"},"finish_reason":"stop"}]}`},
			wantText: `{}`, wantModel: "gpt-4o-mini",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := fakellm.New(t)
			srv.Reply = func(fakellm.Request) fakellm.Response { return tt.reply }
			c := newClient(t, llm.Config{BaseURL: srv.URL()})

			text, model, err := c.CompleteJSON(t.Context(), system, prompt)

			require.NoError(t, err)
			require.Equal(t, tt.wantText, text)
			require.Equal(t, tt.wantModel, model)
		})
	}
}

func TestCompleteJSONUpstreamErrors(t *testing.T) {
	t.Parallel()
	// Retry-After-Ms: the SDK retries a 5xx at once instead of backing off for
	// half a second, so the test stays fast while proving the retry happens.
	retryNow := http.Header{"Retry-After-Ms": {"0"}}
	tests := []struct {
		name         string
		serverKey    string // the key the server requires, if any
		clientKey    string // the key the client sends
		reply        fakellm.Response
		wantMessage  string
		wantRequests int
	}{
		{
			name:        "not JSON",
			reply:       fakellm.Response{Content: "Sure! The industry is software."},
			wantMessage: "the model did not answer with a JSON object", wantRequests: 1,
		},
		{
			name:        "JSON array",
			reply:       fakellm.Response{Content: `[{"a": 1}]`},
			wantMessage: "the model did not answer with a JSON object", wantRequests: 1,
		},
		{
			name:        "JSON null",
			reply:       fakellm.Response{Content: `null`},
			wantMessage: "the model did not answer with a JSON object", wantRequests: 1,
		},
		{
			name:        "two objects",
			reply:       fakellm.Response{Content: `{"a": 1} {"b": 2}`},
			wantMessage: "the model did not answer with a JSON object", wantRequests: 1,
		},
		{
			name:        "cut off",
			reply:       fakellm.Response{Content: `{"industry": "soft`, FinishReason: "length"},
			wantMessage: "the model's answer was cut off", wantRequests: 1,
		},
		{
			name:        "empty choices",
			reply:       fakellm.Response{Body: `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[]}`},
			wantMessage: "the LLM provider returned no answer", wantRequests: 1,
		},
		{
			name:        "refusal",
			reply:       fakellm.Response{Body: `{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}]}`},
			wantMessage: "the model refused to answer", wantRequests: 1,
		},
		{
			name:        "server error, retried once",
			reply:       fakellm.Response{Status: http.StatusInternalServerError, Header: retryNow},
			wantMessage: "the LLM provider failed (HTTP 500)", wantRequests: 2,
		},
		{
			name:        "not JSON from a proxy",
			reply:       fakellm.Response{Status: http.StatusBadGateway, Body: "<html>bad gateway</html>", Header: http.Header{"Content-Type": {"text/html"}, "Retry-After-Ms": {"0"}}},
			wantMessage: "the LLM provider failed (HTTP 502)", wantRequests: 2,
		},
		{
			name:        "key refused",
			serverKey:   "sk-secret-key-0123456789",
			clientKey:   "sk-wrong-key-9876543210",
			wantMessage: "the LLM provider refused the API key", wantRequests: 1,
		},
		{
			name:        "no key",
			serverKey:   "sk-secret-key-0123456789",
			wantMessage: "the LLM provider refused the API key", wantRequests: 1,
		},
		{
			name:        "unknown model",
			reply:       fakellm.Response{Status: http.StatusNotFound, Error: &fakellm.APIError{Message: "The model `gpt-4o-mini` does not exist", Type: "invalid_request_error", Code: "model_not_found"}},
			wantMessage: `the LLM provider does not know model "gpt-4o-mini", or the base URL is wrong`, wantRequests: 1,
		},
		{
			name: "rate limited beyond the retry delay",
			reply: fakellm.Response{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"30"}},
				Error: &fakellm.APIError{Message: "Rate limit reached", Type: "requests", Code: "rate_limit_exceeded"}},
			wantMessage: "the LLM provider is rate limiting requests or the account is out of quota", wantRequests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts []fakellm.Option
			if tt.serverKey != "" {
				opts = append(opts, fakellm.WithAPIKey(tt.serverKey))
			}
			srv := fakellm.New(t, opts...)
			srv.Reply = func(fakellm.Request) fakellm.Response { return tt.reply }
			c := newClient(t, llm.Config{BaseURL: srv.URL(), APIKey: tt.clientKey})

			text, model, err := c.CompleteJSON(t.Context(), system, prompt)

			require.Empty(t, text)
			require.Empty(t, model)
			require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
			var e *models.Error
			require.ErrorAs(t, err, &e)
			require.Contains(t, e.Message, tt.wantMessage)
			require.Error(t, e.Err, "the cause is kept for the log")
			for _, k := range []string{tt.serverKey, tt.clientKey} {
				if k != "" {
					// OpenAI's 401 echoes the key's last four characters.
					require.NotContains(t, err.Error(), k[len(k)-4:], "the error, cause included, leaks no key")
				}
			}
			require.NotContains(t, e.Message, "Sure!", "the message leaks no answer")
			require.Len(t, srv.Requests(), tt.wantRequests)
		})
	}
}

func TestCompleteJSONRecoversWithOneRetry(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.Reply = func(fakellm.Request) fakellm.Response {
		if len(srv.Requests()) == 1 {
			return fakellm.Response{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After-Ms": {"0"}}}
		}
		return fakellm.Response{Content: `{"ok": true}`}
	}
	c := newClient(t, llm.Config{BaseURL: srv.URL()})

	text, _, err := c.CompleteJSON(t.Context(), system, prompt)

	require.NoError(t, err)
	require.Equal(t, `{"ok": true}`, text)
	require.Len(t, srv.Requests(), 2)
}

// held starts CompleteJSON against a server that never answers and returns
// once the request has reached the server, with the server and the call's
// result to come.
func held(t *testing.T, ctx context.Context, cfg llm.Config) (*fakellm.Server, <-chan error) {
	t.Helper()
	srv := fakellm.New(t)
	arrived := make(chan struct{})
	srv.Reply = func(fakellm.Request) fakellm.Response {
		close(arrived)
		return fakellm.Response{Hold: true}
	}
	cfg.BaseURL = srv.URL()
	c := newClient(t, cfg)
	done := make(chan error, 1)
	go func() {
		_, _, err := c.CompleteJSON(ctx, system, prompt)
		done <- err
	}()
	select {
	case <-arrived:
	case <-time.After(waitTimeout):
		t.Fatal("the request never reached the server")
	}
	return srv, done
}

func result(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(waitTimeout):
		t.Fatal("CompleteJSON did not return")
		return nil
	}
}

// requireUpstreamCanceled checks the server saw the client go away.
func requireUpstreamCanceled(t *testing.T, srv *fakellm.Server) {
	t.Helper()
	reqs := srv.Requests()
	require.Len(t, reqs, 1, "a canceled call is not retried")
	select {
	case <-reqs[0].Ended:
	case <-time.After(waitTimeout):
		t.Fatal("the upstream request is still running")
	}
	require.True(t, reqs[0].Canceled())
}

func TestCompleteJSONCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	srv, done := held(t, ctx, llm.Config{})

	cancel()

	err := result(t, done)
	require.ErrorIs(t, err, context.Canceled)
	var e *models.Error
	require.False(t, errors.As(err, &e), "the caller's cancellation is not an upstream failure")
	requireUpstreamCanceled(t, srv)
}

func TestCompleteJSONTimeout(t *testing.T) {
	t.Parallel()
	srv, done := held(t, t.Context(), llm.Config{Timeout: 50 * time.Millisecond})

	err := result(t, done)

	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
	require.Contains(t, models.ErrorMessage(err), "did not answer within 50ms")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	requireUpstreamCanceled(t, srv)
}

func TestCompleteJSONUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	c := newClient(t, llm.Config{BaseURL: "http://" + addr + "/v1"})

	_, _, err = c.CompleteJSON(t.Context(), system, prompt)

	require.Equal(t, models.CodeUpstreamUnavailable, models.ErrorCode(err))
	require.Equal(t, "could not reach the LLM provider at "+addr, models.ErrorMessage(err))
}

func TestCompleteJSONMustMentionJSON(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	c := newClient(t, llm.Config{BaseURL: srv.URL()})

	_, _, err := c.CompleteJSON(t.Context(), "You analyse websites.", prompt)

	require.Equal(t, models.CodeInternal, models.ErrorCode(err))
	require.Empty(t, srv.Requests(), "a request OpenAI would reject is not sent")
}
