// Package llm owns the application's calls to large language models: one
// streaming interface (Provider) with two implementations, a client for any
// OpenAI-compatible Chat Completions endpoint (OpenAI, Ollama, vLLM, llama.cpp's
// server and the like) and a deterministic offline provider that is the
// embedded default; the client's one-shot JSON completion; the timeout and
// retry policy; and the translation of every upstream failure into a
// *models.Error with code UPSTREAM_UNAVAILABLE. It also owns a run's context
// (RunContext): one deadline for the model's first byte across all the run's
// calls, and the server's Drain, which interrupts runs at shutdown. It is the
// only package that imports an LLM SDK.
package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/models"
)

const (
	// DefaultModel is the model asked when Config.Model is empty.
	DefaultModel = "gpt-4o-mini"
	// DefaultTimeout bounds a call when Config.Timeout is zero.
	DefaultTimeout = 60 * time.Second

	// maxRetries is one retry: enough to ride out a dropped connection or a
	// brief 5xx/429, while a user waiting on onboarding is not kept waiting
	// through the SDK's default of two retries with growing backoff.
	maxRetries = 1
	// maxRetryDelay caps the wait before that retry. A provider asking for
	// a longer wait (Retry-After) gets none: the SDK then returns its error
	// at once, which beats a silent stall.
	maxRetryDelay = 2 * time.Second
)

// Config says which endpoint, key and model a Client uses.
type Config struct {
	// BaseURL is any OpenAI-compatible endpoint, e.g. https://api.openai.com/v1
	// or http://127.0.0.1:11434/v1 (Ollama).
	BaseURL string
	// APIKey is sent as a bearer token; it may be empty for local servers.
	APIKey string
	// Model defaults to DefaultModel.
	Model string
	// Timeout bounds each call, retries included; it defaults to DefaultTimeout.
	Timeout time.Duration
}

// Client calls one model at one endpoint. It is safe for concurrent use.
type Client struct {
	chat    openai.ChatCompletionService
	model   string
	timeout time.Duration
	host    string // for messages: the endpoint's host, never its path or query
}

// New returns a Client for cfg. BaseURL must be an http or https URL with a
// host; a bad one is a BAD_USER_INPUT error on the field "baseURL".
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	switch {
	case err != nil:
		return nil, &models.Error{Code: models.CodeBadUserInput, Field: "baseURL",
			Message: "the LLM base URL is not a valid URL", Err: err}
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, models.InvalidInput("baseURL", "the LLM base URL must start with http:// or https://")
	case u.Host == "":
		return nil, models.InvalidInput("baseURL", "the LLM base URL has no host")
	case cfg.Timeout < 0:
		return nil, models.InvalidInput("timeout", "the LLM timeout cannot be negative")
	}
	c := &Client{model: strings.TrimSpace(cfg.Model), timeout: cfg.Timeout, host: u.Host}
	if c.model == "" {
		c.model = DefaultModel
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	// The chat service is built directly rather than through openai.NewClient,
	// which reads OPENAI_API_KEY, OPENAI_BASE_URL, OPENAI_ORG_ID and more from
	// the environment: a server holding users' keys must send exactly the
	// configured key to exactly the configured endpoint.
	c.chat = openai.NewChatCompletionService(
		option.WithBaseURL(u.String()),
		option.WithAPIKey(cfg.APIKey),
		// A plain http.Client shares http.DefaultTransport's connection pool
		// among all Clients (one per user key, possibly); the SDK's default
		// would give each its own. It has no Timeout: the context bounds a
		// call, and a client-wide timeout would cut off long streams later.
		// The transport adds a client span and traceparent to every call.
		option.WithHTTPClient(&http.Client{Transport: tracing.Transport(nil)}),
		option.WithMaxRetries(maxRetries),
		option.WithMaxRetryDelay(maxRetryDelay),
	)
	return c, nil
}

// Model returns the model the client asks for.
func (c *Client) Model() string { return c.model }

// CompleteJSON asks for one JSON object (response_format json_object) and
// returns its text and the model that answered. It checks the answer is a JSON
// object before returning it; a ```json fence around it, which some local
// models add, is removed.
//
// OpenAI requires the word "JSON" in the messages of such a request, so system
// or prompt must mention it; an empty system sends the prompt alone.
//
// Every upstream failure is a *models.Error with code UPSTREAM_UNAVAILABLE;
// when ctx ends first, the error wraps ctx.Err() instead.
func (c *Client) CompleteJSON(ctx context.Context, system, prompt string) (text, model string, err error) {
	if !strings.Contains(strings.ToLower(system+prompt), "json") {
		return "", "", models.Internal(nil, "llm: a JSON completion must mention JSON in its messages")
	}
	msgs := make([]openai.ChatCompletionMessageParamUnion, 0, 2)
	if system != "" {
		msgs = append(msgs, openai.SystemMessage(system))
	}
	msgs = append(msgs, openai.UserMessage(prompt))

	callCtx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	res, err := c.chat.New(callCtx, openai.ChatCompletionNewParams{
		Model:    c.model,
		Messages: msgs,
		ResponseFormat: openai.ChatCompletionNewParamsResponseFormatUnion{
			OfJSONObject: &shared.ResponseFormatJSONObjectParam{},
		},
	})
	if err != nil {
		return "", "", c.callError(ctx, err)
	}

	if len(res.Choices) == 0 {
		return "", "", c.failed(metrics.ReasonProtocol, "the LLM provider returned no answer", errors.New("no choices in completion"))
	}
	choice := res.Choices[0]
	if choice.Message.Refusal != "" {
		return "", "", c.failed(metrics.ReasonAnswer, "the model refused to answer", errors.New("refusal in completion"))
	}
	text = stripFence(strings.TrimSpace(choice.Message.Content))
	if err := checkObject(text); err != nil {
		msg := "the model did not answer with a JSON object"
		if choice.FinishReason == "length" {
			msg = "the model's answer was cut off before the JSON object was complete"
		}
		return "", "", c.failed(metrics.ReasonAnswer, msg, fmt.Errorf("answer of %d bytes, finish reason %q: %w",
			len(choice.Message.Content), choice.FinishReason, err))
	}
	model = res.Model
	if model == "" {
		// Some compatible servers leave it out; then it is the one asked.
		model = c.model
	}
	return text, model, nil
}

// callError turns a failed SDK call into the error CompleteJSON returns. The
// SDK's *openai.Error prints only the status, so it is safe as the cause; the
// provider's own message is left out of ours, as OpenAI's echoes part of the key.
func (c *Client) callError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("llm: %w", ctxErr)
	}
	var apiErr *openai.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusTooManyRequests:
		return c.failed(metrics.ReasonRateLimited, statusMessage(apiErr.StatusCode, c.model), err)
	case errors.As(err, &apiErr):
		return c.failed(metrics.ReasonStatus, statusMessage(apiErr.StatusCode, c.model), err)
	case errors.Is(err, context.DeadlineExceeded):
		return c.failed(metrics.ReasonTimeout, fmt.Sprintf("the LLM provider at %s did not answer within %s", c.host, c.timeout), err)
	default:
		return c.failed(metrics.ReasonConnection, fmt.Sprintf("could not reach the LLM provider at %s", c.host), err)
	}
}

// failed is upstream for a failure of the provider's, counted in the upstream errors
// metric under reason (one of the metrics.Reason constants). A call the caller
// abandoned is not the provider's failure and does not come here.
func (c *Client) failed(reason, msg string, cause error) *models.Error {
	metrics.Upstream(ProviderOpenAICompatible, reason)
	return upstream(msg, cause)
}

func statusMessage(status int, model string) string {
	switch {
	case status == http.StatusUnauthorized:
		return "the LLM provider refused the API key"
	case status == http.StatusForbidden:
		return "the LLM provider denied access: check the API key's permissions"
	case status == http.StatusNotFound:
		return fmt.Sprintf("the LLM provider does not know model %q, or the base URL is wrong", model)
	case status == http.StatusTooManyRequests:
		return "the LLM provider is rate limiting requests or the account is out of quota"
	case status >= 500:
		return fmt.Sprintf("the LLM provider failed (HTTP %d)", status)
	default:
		return fmt.Sprintf("the LLM provider rejected the request (HTTP %d)", status)
	}
}

func upstream(msg string, cause error) *models.Error {
	return &models.Error{Code: models.CodeUpstreamUnavailable, Message: msg, Err: cause}
}

// stripFence removes a Markdown code fence wrapping the whole of s.
func stripFence(s string) string {
	body, ok := strings.CutPrefix(s, "```")
	if !ok {
		return s
	}
	body, ok = strings.CutSuffix(body, "```")
	if !ok {
		return s
	}
	// Drop the info string: ```json
	if i := strings.IndexByte(body, '\n'); i >= 0 {
		body = body[i+1:]
	}
	return strings.TrimSpace(body)
}

// checkObject reports why s is not one JSON object, or nil.
func checkObject(s string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &obj); err != nil {
		return err
	}
	if obj == nil {
		return errors.New("null is not an object")
	}
	return nil
}
