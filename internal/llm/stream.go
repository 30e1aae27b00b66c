package llm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/shared"

	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/models"
)

var _ Provider = (*Client)(nil)

// errIdle is the cause of a stream's cancellation when the provider stayed
// silent for longer than the timeout.
var errIdle = errors.New("llm: no data from the provider within the timeout")

// errProtocol marks a stream that broke the wire format, for the upstream errors
// metric's reason.
var errProtocol = errors.New("llm: the stream broke the protocol")

// Info says the client is an OpenAI-compatible provider of its model.
func (c *Client) Info() Info {
	return Info{Provider: ProviderOpenAICompatible, Model: c.model}
}

// Stream starts a streamed completion (stream_options include_usage).
//
// The timeout bounds the wait for the response and then each silence between
// chunks, not the whole answer, which may rightly be long. Under a context from
// WithFirstByteDeadline, the wait for the response is the run's: what is left of
// one timeout for all its calls until the model has sent something. The SDK's single
// retry applies only until the response starts (a refused connection, 429 or
// 5xx): those errors are returned here. After that, a failure is one Err
// chunk and the sequence ends; nothing is retried. The body is read and decoded
// on the goroutine that ranges over the sequence.
func (c *Client) Stream(ctx context.Context, req Request) (iter.Seq[Chunk], error) {
	params, err := c.streamParams(req)
	if err != nil {
		return nil, err
	}
	wait := firstByteWait(ctx, c.timeout)
	if wait <= 0 {
		// The run's one wait for the model to start answering is over: another
		// call of the run has waited it out.
		return nil, c.failed(metrics.ReasonTimeout, fmt.Sprintf("the LLM provider at %s sent nothing for %s", c.host, c.timeout), errIdle)
	}
	callCtx, cancel := context.WithCancelCause(ctx)
	idle := time.AfterFunc(wait, func() { cancel(errIdle) })
	stream := c.chat.NewStreaming(callCtx, params)
	if err := stream.Err(); err != nil {
		idle.Stop()
		_ = stream.Close()
		cancel(nil)
		return nil, c.streamError(ctx, callCtx, err, false)
	}

	// The answer's state is on the heap and each chunk is worked on in a method: the
	// frame that waits on the body while the model thinks stays small (the SDK's
	// chunk and accumulator are large values).
	st := &answer{c: c, ctx: ctx, callCtx: callCtx, idle: idle}
	return func(yield func(Chunk) bool) {
		defer cancel(nil)
		// Closing the body (rather than draining it) is what ends the
		// upstream request when the caller goes away or stops reading.
		defer func() { _ = stream.Close() }()
		defer idle.Stop()
		st.yield = yield
		for stream.Next() {
			// A slow reader is not a silent provider: the clock runs only
			// while waiting on upstream.
			idle.Stop()
			if !st.add(stream) {
				return
			}
		}
		st.end(stream.Err())
	}, nil
}

// answer is the state of one streamed answer, read on its caller's goroutine.
type answer struct {
	c       *Client
	ctx     context.Context // the caller's
	callCtx context.Context // the call's, ended by the idle timer
	idle    *time.Timer
	yield   func(Chunk) bool
	stopped bool // yield refused, or ctx ended: nothing more is sent

	acc    openai.ChatCompletionAccumulator
	begun  bool // a piece of the answer has come
	finish string
	model  string
	usage  *models.Usage
}

// send passes ch on unless the caller is gone; it never calls yield again after a refusal.
func (a *answer) send(ch Chunk) bool {
	a.stopped = a.stopped || a.ctx.Err() != nil || !a.yield(ch)
	return !a.stopped
}

// fail ends the answer with an Err chunk, unless the caller is gone.
func (a *answer) fail(err error) {
	if a.ctx.Err() == nil {
		a.send(Chunk{Err: a.c.streamError(a.ctx, a.callCtx, err, true)})
	}
}

// add takes the stream's current chunk; false when the answer is over (broken, or
// the caller gone).
func (a *answer) add(stream *ssestream.Stream[openai.ChatCompletionChunk]) bool {
	chunk := stream.Current()
	if !a.acc.AddChunk(chunk) {
		a.fail(fmt.Errorf("%w: the stream's chunks do not fit together", errProtocol))
		return false
	}
	if chunk.Model != "" {
		a.model = chunk.Model
	}
	// The last usage reported wins: some servers (vLLM's continuous
	// usage stats) repeat a running total on every chunk, which the
	// accumulator would add up.
	if chunk.JSON.Usage.Valid() {
		a.usage = &models.Usage{
			PromptTokens:     int(chunk.Usage.PromptTokens),
			CompletionTokens: int(chunk.Usage.CompletionTokens),
			TotalTokens:      int(chunk.Usage.TotalTokens),
		}
	}
	for _, choice := range chunk.Choices {
		if choice.Index != 0 {
			continue
		}
		if !a.begun && (choice.Delta.Content != "" || len(choice.Delta.ToolCalls) > 0 || choice.Delta.Refusal != "") {
			// The model has started answering; an opening chunk with the
			// role alone, which some servers send at once, does not count.
			a.begun = true
			firstByteArrived(a.ctx)
		}
		if choice.Delta.Content != "" && !a.send(Chunk{Text: choice.Delta.Content}) {
			return false
		}
		if choice.FinishReason != "" {
			a.finish = choice.FinishReason
		}
	}
	if a.begun {
		a.idle.Reset(a.c.timeout)
	} else {
		a.idle.Reset(max(firstByteWait(a.ctx, a.c.timeout), 0))
	}
	return true
}

// end sends the answer's last chunk once the body is over: Done, or Err when the
// stream failed (err) or ended without a finish reason.
func (a *answer) end(err error) {
	if err != nil {
		a.fail(err)
		return
	}
	if a.finish == "" {
		// The body ended without a finish reason: a proxy or server
		// cut the answer short, though the HTTP response looked whole.
		a.fail(fmt.Errorf("%w: the stream ended without a finish reason", errProtocol))
		return
	}
	done := &Done{FinishReason: a.finish, Usage: a.usage, Provider: ProviderOpenAICompatible, Model: a.model}
	if done.Model == "" {
		done.Model = a.c.model
	}
	if len(a.acc.Choices) > 0 {
		for _, tc := range a.acc.Choices[0].Message.ToolCalls {
			done.ToolCalls = append(done.ToolCalls, ToolCall{
				ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments,
			})
		}
	}
	a.send(Chunk{Done: done})
}

func (c *Client) streamParams(req Request) (openai.ChatCompletionNewParams, error) {
	p := openai.ChatCompletionNewParams{
		Model:         c.model,
		StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
	}
	if len(req.Messages) == 0 {
		return p, models.Internal(nil, "llm: a request needs at least one message")
	}
	for i, m := range req.Messages {
		switch m.Role {
		case RoleSystem:
			p.Messages = append(p.Messages, openai.SystemMessage(m.Content))
		case RoleUser:
			p.Messages = append(p.Messages, openai.UserMessage(m.Content))
		case RoleAssistant:
			a := openai.ChatCompletionAssistantMessageParam{}
			if m.Content != "" {
				a.Content.OfString = openai.String(m.Content)
			}
			for _, tc := range m.ToolCalls {
				a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
					OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
						ID: tc.ID,
						Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{
							Name: tc.Name, Arguments: tc.Arguments,
						},
					},
				})
			}
			p.Messages = append(p.Messages, openai.ChatCompletionMessageParamUnion{OfAssistant: &a})
		case RoleTool:
			if m.ToolCallID == "" {
				return p, models.Internal(nil, "llm: tool message %d has no tool call ID", i)
			}
			p.Messages = append(p.Messages, openai.ToolMessage(m.Content, m.ToolCallID))
		default:
			return p, models.Internal(nil, "llm: message %d has unknown role %q", i, m.Role)
		}
	}
	for _, t := range req.Tools {
		def := shared.FunctionDefinitionParam{Name: t.Name, Parameters: shared.FunctionParameters(t.Parameters)}
		if t.Description != "" {
			def.Description = openai.String(t.Description)
		}
		p.Tools = append(p.Tools, openai.ChatCompletionFunctionTool(def))
	}
	if len(req.Tools) > 0 {
		switch req.ToolChoice.Mode {
		case ToolChoiceAuto:
		case ToolChoiceNone, ToolChoiceRequired:
			p.ToolChoice.OfAuto = openai.String(string(req.ToolChoice.Mode))
		case ToolChoiceFunction:
			p.ToolChoice.OfFunctionToolChoice = &openai.ChatCompletionNamedToolChoiceParam{
				Function: openai.ChatCompletionNamedToolChoiceFunctionParam{Name: req.ToolChoice.Function},
			}
		default:
			return p, models.Internal(nil, "llm: unknown tool choice %q", req.ToolChoice.Mode)
		}
	}
	if req.MaxTokens > 0 {
		// max_tokens rather than max_completion_tokens: Ollama, llama.cpp's
		// server and older vLLM know only the former.
		p.MaxTokens = openai.Int(int64(req.MaxTokens))
	}
	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	return p, nil
}

// streamError turns a failed stream into the error Stream returns or puts in
// its Err chunk. begun says whether the answer had started.
func (c *Client) streamError(ctx, callCtx context.Context, err error, begun bool) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("llm: %w", ctxErr)
	}
	if errors.Is(context.Cause(callCtx), errIdle) {
		return c.failed(metrics.ReasonTimeout, fmt.Sprintf("the LLM provider at %s sent nothing for %s", c.host, c.timeout), err)
	}
	if !begun {
		return c.callError(ctx, err)
	}
	var streamErr *ssestream.StreamError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &streamErr):
		// The provider's own message stays in the cause: it may echo input.
		return c.failed(metrics.ReasonStatus, "the LLM provider failed while answering", err)
	case errors.Is(err, errProtocol), errors.As(err, &syntaxErr), errors.As(err, &typeErr):
		return c.failed(metrics.ReasonProtocol, fmt.Sprintf("the answer from the LLM provider at %s broke off", c.host), err)
	}
	return c.failed(metrics.ReasonConnection, fmt.Sprintf("the answer from the LLM provider at %s broke off", c.host), err)
}
