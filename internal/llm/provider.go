package llm

import (
	"context"
	"errors"
	"iter"

	"github.com/inkgraph/inkgraph/models"
)

// Provider streams one chat completion. Client (any OpenAI-compatible
// endpoint) and Offline implement it; chat is written against it alone.
type Provider interface {
	// Stream starts a completion. An error returned here means nothing was
	// streamed (a bad request, or an upstream that refused or never answered),
	// so a caller may fall back to something else. Otherwise the sequence
	// yields text deltas, then exactly one last chunk, either Done or Err.
	//
	// The sequence is pulled by its caller, once: the answer is read (the HTTP
	// body decoded, the offline answer produced) on the caller's goroutine as it
	// ranges over it, and the provider runs no goroutine of its own. Breaking out
	// of the loop abandons the upstream request and releases it before the loop
	// returns; so does ranging to the end. When ctx ends the upstream request is
	// abandoned at once and the sequence ends, possibly without a last chunk. A
	// caller that never ranges over it must cancel ctx to release the request.
	Stream(ctx context.Context, req Request) (iter.Seq[Chunk], error)
	// Info says who answers, for metadata and metering.
	Info() Info
}

// Info describes a provider.
type Info struct {
	// Provider is "openai-compatible" or "offline".
	Provider string
	// Model is the model asked for.
	Model string
	// Offline is true for the built-in provider, whose answers are rule-based.
	Offline bool
}

// Provider names in Info.Provider.
const (
	ProviderOpenAICompatible = "openai-compatible"
	ProviderOffline          = "offline"
)

// Role is the author of a Message.
type Role string

// The roles of a conversation.
const (
	RoleSystem    Role = "system"
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleTool      Role = "tool"
)

// Message is one message of a conversation.
type Message struct {
	Role    Role
	Content string
	// ToolCalls are the calls an assistant message made; their results follow
	// as RoleTool messages.
	ToolCalls []ToolCall
	// ToolCallID ties a RoleTool message to the call it answers.
	ToolCallID string
}

// Tool is a function the model may call.
type Tool struct {
	Name        string
	Description string
	// Parameters is a JSON Schema object describing the arguments.
	Parameters map[string]any
}

// ToolChoiceMode says whether and which tools the model must call.
type ToolChoiceMode string

// Tool choice modes; the zero value is auto.
const (
	ToolChoiceAuto     ToolChoiceMode = ""
	ToolChoiceNone     ToolChoiceMode = "none"
	ToolChoiceRequired ToolChoiceMode = "required"
	// ToolChoiceFunction forces the call of ToolChoice.Function.
	ToolChoiceFunction ToolChoiceMode = "function"
)

// ToolChoice constrains tool calling; it only matters when Request.Tools is set.
type ToolChoice struct {
	Mode     ToolChoiceMode
	Function string
}

// Request is one chat completion request.
type Request struct {
	Messages   []Message
	Tools      []Tool
	ToolChoice ToolChoice
	// MaxTokens bounds the answer; zero leaves it to the provider.
	MaxTokens int
	// Temperature, when set, overrides the provider's default.
	Temperature *float64
	// Grounding lists the numbered passages of the user's documents that the
	// messages show the model (grounded chat). An endpoint reads them in the
	// messages; the offline provider answers from them.
	Grounding []Passage
}

// Passage is a passage of the user's documents shown to the model as [N].
type Passage struct {
	N     int
	Title string
	Text  string
}

// ToolCall is one complete function call: Arguments is the JSON text the
// model produced, not yet validated.
type ToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// Finish reasons in Done.FinishReason, as OpenAI names them.
const (
	FinishStop      = "stop"
	FinishLength    = "length"
	FinishToolCalls = "tool_calls"
)

// Chunk is one piece of a stream: a text delta, or the last chunk (Done or Err).
type Chunk struct {
	// Text is a delta of the answer.
	Text string
	// Done is set on the last chunk of a complete answer.
	Done *Done
	// Err is set on the last chunk of an answer that failed after it began;
	// it is a *models.Error (UPSTREAM_UNAVAILABLE). Nothing is retried once a
	// stream has begun: what was streamed cannot be taken back.
	Err error
}

// Done ends a complete answer.
type Done struct {
	// ToolCalls are the calls the model made, each assembled from its deltas.
	ToolCalls []ToolCall
	// FinishReason is stop, length, tool_calls or what the provider said.
	FinishReason string
	// Usage is nil when the provider did not report it.
	Usage *models.Usage
	// Provider, Model and Offline say who answered; Model is the model that
	// answered when the provider says so.
	Provider string
	Model    string
	Offline  bool
}

// Collect reads a stream to its end and returns its text and last chunk. It
// is for callers that need the whole answer, such as a classifier.
func Collect(ctx context.Context, chunks iter.Seq[Chunk]) (text string, done *Done, err error) {
	var b []byte
	for c := range chunks {
		switch {
		case c.Err != nil:
			return string(b), nil, c.Err
		case c.Done != nil:
			done = c.Done
		default:
			b = append(b, c.Text...)
		}
	}
	if done == nil {
		if err := ctx.Err(); err != nil {
			return string(b), nil, err
		}
		return string(b), nil, errors.New("llm: stream closed without a last chunk")
	}
	return string(b), done, nil
}

// Estimate guesses the usage of a completion the provider never reported, such as
// one the client abandoned or that failed mid-stream (OpenAI-compatible streams
// report usage only in their last chunk): about four bytes a token, for the request's
// messages and tools and for the text received. A run must be charged for what it
// spent, or a client that always leaves before the end would never pay.
func Estimate(req Request, completion string) models.Usage {
	tokens := func(n int) int { return (n + 3) / 4 }
	prompt := 0
	for _, m := range req.Messages {
		prompt += 4 + tokens(len(m.Content))
		for _, c := range m.ToolCalls {
			prompt += tokens(len(c.Name) + len(c.Arguments))
		}
	}
	for _, t := range req.Tools {
		prompt += tokens(len(t.Name) + len(t.Description) + 64*len(t.Parameters))
	}
	u := models.Usage{PromptTokens: prompt, CompletionTokens: tokens(len(completion))}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}
