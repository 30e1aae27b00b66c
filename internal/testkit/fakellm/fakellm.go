// Package fakellm owns a fake OpenAI-compatible server for tests: it speaks the
// Chat Completions wire format (plain JSON and SSE streaming) and the model list
// on 127.0.0.1, records every request it receives, and answers as the test
// scripts it through Server.Reply. It lets the LLM client, and everything built
// on it, be tested over a real socket without the internet.
//
// The routes are POST /v1/chat/completions, POST /v1/embeddings and GET
// /v1/models, also accepted without the /v1 prefix. Errors use OpenAI's body shape,
//
//	{"error": {"message": "…", "type": "…", "param": null, "code": "…"}}
//
// and, like OpenAI, the server rejects a request without a model or messages,
// and a response_format of json_object whose messages never mention JSON.
package fakellm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// DefaultModel is the model GET /v1/models lists unless WithModel says otherwise.
const DefaultModel = "fake-model"

// Server is a running fake. Create it with New; it is closed when the test ends.
type Server struct {
	// Reply scripts the answer to each chat completion request. It is called
	// on the server's goroutine, possibly concurrently for concurrent
	// requests. Set it before the requests it should answer are made; nil
	// answers every request with the content "ok".
	Reply func(req Request) Response
	// EmbedReply, when set, scripts the answer to each valid embeddings
	// request: it gets the request and the vectors the server would answer
	// (Vector of each input, in order) and returns the response to send.
	EmbedReply func(req EmbeddingRequest, data []Embedding) EmbeddingResponse

	apiKey string
	model  string

	srv     *httptest.Server
	closing chan struct{} // closed at cleanup, releasing held requests
	seq     atomic.Int64

	mu   sync.Mutex
	reqs []Request
}

// Option configures a Server in New.
type Option func(*Server)

// WithAPIKey makes the server require "Authorization: Bearer key" on every
// request and answer 401 otherwise, as OpenAI does.
func WithAPIKey(key string) Option { return func(s *Server) { s.apiKey = key } }

// WithModel sets the model GET /v1/models lists.
func WithModel(id string) Option { return func(s *Server) { s.model = id } }

// New starts a fake server on a loopback port; t's cleanup closes it, first
// releasing any request a Response holds.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{model: DefaultModel, closing: make(chan struct{})}
	for _, opt := range opts {
		opt(s)
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(func() {
		close(s.closing)
		s.srv.Close()
	})
	return s
}

// URL returns the base URL clients are configured with: it ends in /v1.
func (s *Server) URL() string { return s.srv.URL + "/v1" }

// Requests returns the requests received so far, in the order they arrived.
// A request is recorded before it is answered, so a held one is already here.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.reqs...)
}

// Request is one request the server received.
type Request struct {
	Method string
	Path   string // as received, e.g. /v1/chat/completions
	Header http.Header
	// Body is the decoded chat completion request; zero for other routes.
	Body ChatRequest
	// Embedding is the decoded embeddings request; zero for other routes.
	Embedding EmbeddingRequest
	// Raw is the request body as received, for fields Body leaves out.
	Raw []byte
	// Ended is closed once the server is done with the request: its response
	// was complete, the client went away, or the server was closed.
	Ended <-chan struct{}

	canceled *atomic.Bool
}

// Canceled reports whether the client went away before the response was
// complete, which is how a test proves cancellation reached upstream. It is
// meaningful once Ended is closed.
func (r Request) Canceled() bool { return r.canceled != nil && r.canceled.Load() }

// ChatRequest is the part of a Chat Completions request body tests assert on.
type ChatRequest struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	Stream         bool            `json:"stream"`
	StreamOptions  *StreamOptions  `json:"stream_options"`
	ResponseFormat *ResponseFormat `json:"response_format"`
	// Tools is kept undecoded until a test needs more than its presence.
	Tools []json.RawMessage `json:"tools"`
}

// Message is one message of a ChatRequest.
type Message struct {
	Role string
	// Content is the text of the message; content given as an array of parts
	// is flattened to the concatenation of its text parts.
	Content    string
	ToolCallID string
}

// UnmarshalJSON accepts content both as a string and as an array of parts.
func (m *Message) UnmarshalJSON(data []byte) error {
	var wire struct {
		Role       string          `json:"role"`
		Content    json.RawMessage `json:"content"`
		ToolCallID string          `json:"tool_call_id"`
	}
	if err := json.Unmarshal(data, &wire); err != nil {
		return err
	}
	*m = Message{Role: wire.Role, ToolCallID: wire.ToolCallID}
	switch {
	case len(wire.Content) == 0 || string(wire.Content) == "null":
	case wire.Content[0] == '"':
		return json.Unmarshal(wire.Content, &m.Content)
	default:
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(wire.Content, &parts); err != nil {
			return fmt.Errorf("message content: %w", err)
		}
		var b strings.Builder
		for _, p := range parts {
			b.WriteString(p.Text)
		}
		m.Content = b.String()
	}
	return nil
}

// StreamOptions is a ChatRequest's stream_options.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ResponseFormat is a ChatRequest's response_format.
type ResponseFormat struct {
	Type string `json:"type"` // text, json_object or json_schema
}

// Response scripts the answer to one chat completion request. The zero value
// answers with empty content. The fields apply in this order: Delay, then
// Header, then the first of Body (verbatim), Status (an error) or the
// completion, which Hold may keep from finishing.
type Response struct {
	// Content is the assistant's answer. Streamed, and unless Chunks is set,
	// it is sent as one delta per word (split after each space).
	Content string
	// Chunks, when streaming, are the deltas sent in order; Content is then
	// ignored. A non-streaming answer ignores them.
	Chunks []Chunk
	// Model is the model the answer claims; default the requested one.
	Model string
	// FinishReason defaults to "stop", or "tool_calls" when a chunk calls one.
	FinishReason string
	// Usage defaults to a count of words: prompt tokens in the messages,
	// completion tokens in the answer (or one per chunk).
	Usage *Usage

	// Status, when 400 or more, answers with that status and an OpenAI error
	// body: Error, or one made from the status.
	Status int
	Error  *APIError
	// Body, when set, is sent verbatim with Status (or 200), as
	// application/json unless Header sets a Content-Type: for payloads the
	// other fields cannot describe, such as empty choices or a proxy's page.
	Body string
	// Header is added to the response, e.g. Retry-After-Ms.
	Header http.Header

	// Delay waits before answering; a client that goes away meanwhile gets
	// nothing.
	Delay time.Duration
	// Pause, when set, stops a streamed answer after its first PauseAfter chunks
	// until Pause is closed (or the client goes away), then the answer goes on.
	Pause      <-chan struct{}
	PauseAfter int
	// Hold never finishes the completion: the server waits until the client
	// goes away. A non-streaming request gets no response at all; a streaming
	// one gets its headers and chunks but no finish, usage or [DONE].
	Hold bool
}

// Chunk is one streamed delta.
type Chunk struct {
	Content string
	// ToolCalls are tool-call fragments, as OpenAI streams them: the first
	// fragment of a call carries ID and Name, later ones more Arguments
	// for the same Index.
	ToolCalls []ToolCallDelta
}

// ToolCallDelta is a fragment of a streamed function tool call.
type ToolCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// Usage is token usage as reported in a completion.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// APIError is the error object of an OpenAI error body.
type APIError struct {
	Message string
	Type    string // e.g. invalid_request_error, server_error
	Code    string // e.g. invalid_api_key; sent as null when empty
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	ended := make(chan struct{})
	defer close(ended)
	req := Request{
		Method:   r.Method,
		Path:     r.URL.Path,
		Header:   r.Header.Clone(),
		Raw:      raw,
		Ended:    ended,
		canceled: new(atomic.Bool),
	}
	route := strings.TrimPrefix(r.URL.Path, "/v1")
	isChat := route == "/chat/completions" && r.Method == http.MethodPost
	isEmbed := route == "/embeddings" && r.Method == http.MethodPost
	var decodeErr error
	switch {
	case isChat:
		decodeErr = json.Unmarshal(raw, &req.Body)
	case isEmbed:
		req.Embedding, decodeErr = decodeEmbeddingRequest(raw)
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, req)
	s.mu.Unlock()

	if s.apiKey != "" && r.Header.Get("Authorization") != "Bearer "+s.apiKey {
		writeError(w, http.StatusUnauthorized, unauthorized(r.Header.Get("Authorization")))
		return
	}
	switch {
	case isChat:
		if bad := validate(req.Body, decodeErr); bad != nil {
			writeError(w, http.StatusBadRequest, bad)
			return
		}
		reply := Response{Content: "ok"}
		if s.Reply != nil {
			reply = s.Reply(req)
		}
		if !s.answer(w, r, req, reply) {
			req.canceled.Store(true)
		}
	case isEmbed:
		if bad := validateEmbedding(req.Embedding, decodeErr); bad != nil {
			writeError(w, http.StatusBadRequest, bad)
			return
		}
		s.embed(w, req.Embedding)
	case route == "/models" && r.Method == http.MethodGet:
		s.writeModels(w)
	case route == "/models", route == "/chat/completions", route == "/embeddings":
		writeError(w, http.StatusMethodNotAllowed, &APIError{
			Message: "Method " + r.Method + " not allowed for " + r.URL.Path, Type: "invalid_request_error",
		})
	default:
		writeError(w, http.StatusNotFound, &APIError{
			Message: "Invalid URL (" + r.Method + " " + r.URL.Path + ")", Type: "invalid_request_error",
		})
	}
}

// answer writes the scripted reply; it reports false when the client went
// away before the reply was complete.
func (s *Server) answer(w http.ResponseWriter, r *http.Request, req Request, reply Response) bool {
	ctx := r.Context()
	if reply.Delay > 0 {
		timer := time.NewTimer(reply.Delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-ctx.Done():
			return false
		case <-s.closing:
			return true
		}
	}
	for k, vs := range reply.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	switch {
	case reply.Body != "":
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(cmpStatus(reply.Status))
		_, _ = io.WriteString(w, reply.Body)
		return true
	case reply.Status >= 400:
		e := reply.Error
		if e == nil {
			e = &APIError{Message: http.StatusText(reply.Status), Type: errorType(reply.Status)}
		}
		writeError(w, reply.Status, e)
		return true
	case req.Body.Stream:
		return s.stream(w, r, req, reply)
	case reply.Hold:
		return s.hold(r)
	}
	id, created, model := s.meta(req, reply)
	usage := reply.Usage
	if usage == nil {
		usage = countUsage(req.Body.Messages, len(words(reply.Content)))
	}
	writeJSON(w, http.StatusOK, completion{
		ID: id, Object: "chat.completion", Created: created, Model: model,
		Choices: []completionChoice{{
			Message:      completionMessage{Role: "assistant", Content: reply.Content},
			FinishReason: finishReason(reply),
		}},
		Usage: usage,
	})
	return true
}

func (s *Server) stream(w http.ResponseWriter, r *http.Request, req Request, reply Response) bool {
	flusher, _ := w.(http.Flusher)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)

	id, created, model := s.meta(req, reply)
	includeUsage := req.Body.StreamOptions != nil && req.Body.StreamOptions.IncludeUsage
	send := func(choices []chunkChoice, usage *Usage) bool {
		c := chunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: model, Choices: choices}
		switch {
		case usage != nil:
			c.Usage, _ = json.Marshal(usage)
		case includeUsage:
			// OpenAI sends "usage": null on every other chunk then.
			c.Usage = json.RawMessage("null")
		}
		b, _ := json.Marshal(c)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return r.Context().Err() == nil
	}

	chunks := reply.Chunks
	if chunks == nil {
		for _, word := range words(reply.Content) {
			chunks = append(chunks, Chunk{Content: word})
		}
	}
	// OpenAI opens with the role and empty content.
	empty := ""
	if !send([]chunkChoice{{Delta: delta{Role: "assistant", Content: &empty}}}, nil) {
		return false
	}
	for i, c := range chunks {
		if reply.Pause != nil && i == reply.PauseAfter {
			select {
			case <-reply.Pause:
			case <-r.Context().Done():
				return false
			case <-s.closing:
				return true
			}
		}
		d := delta{}
		if c.Content != "" || len(c.ToolCalls) == 0 {
			content := c.Content
			d.Content = &content
		}
		for _, tc := range c.ToolCalls {
			wire := toolCallDelta{Index: tc.Index, ID: tc.ID, Function: functionDelta{Name: tc.Name, Arguments: tc.Arguments}}
			if tc.ID != "" {
				wire.Type = "function"
			}
			d.ToolCalls = append(d.ToolCalls, wire)
		}
		if !send([]chunkChoice{{Delta: d}}, nil) {
			return false
		}
	}
	if reply.Hold {
		return s.hold(r)
	}
	reason := finishReason(reply)
	if !send([]chunkChoice{{Delta: delta{}, FinishReason: &reason}}, nil) {
		return false
	}
	if includeUsage {
		usage := reply.Usage
		if usage == nil {
			usage = countUsage(req.Body.Messages, len(chunks))
		}
		if !send([]chunkChoice{}, usage) {
			return false
		}
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err != nil {
		return false
	}
	if flusher != nil {
		flusher.Flush()
	}
	return true
}

// hold waits until the client goes away (false) or the server closes (true).
func (s *Server) hold(r *http.Request) bool {
	select {
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return true
	}
}

func (s *Server) meta(req Request, reply Response) (id string, created int64, model string) {
	model = reply.Model
	if model == "" {
		model = req.Body.Model
	}
	return fmt.Sprintf("chatcmpl-fake-%d", s.seq.Add(1)), time.Now().Unix(), model
}

func (s *Server) writeModels(w http.ResponseWriter) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	writeJSON(w, http.StatusOK, struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", []model{{ID: s.model, Object: "model", Created: time.Now().Unix(), OwnedBy: "fakellm"}}})
}

// validate rejects what OpenAI rejects with 400 before generating anything.
func validate(body ChatRequest, decodeErr error) *APIError {
	invalid := func(msg string) *APIError { return &APIError{Message: msg, Type: "invalid_request_error"} }
	switch {
	case decodeErr != nil:
		return invalid("We could not parse the JSON body of your request: " + decodeErr.Error())
	case body.Model == "":
		return invalid("you must provide a model parameter")
	case len(body.Messages) == 0:
		return invalid("[] is too short - 'messages'")
	}
	if body.ResponseFormat != nil && body.ResponseFormat.Type == "json_object" {
		for _, m := range body.Messages {
			if strings.Contains(strings.ToLower(m.Content), "json") {
				return nil
			}
		}
		return invalid("'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.")
	}
	return nil
}

// unauthorized is OpenAI's answer to a wrong or missing key; like OpenAI it
// echoes a masked key, so tests can check it never reaches users.
func unauthorized(authorization string) *APIError {
	key, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || key == "" {
		return &APIError{
			Message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
			Type:    "invalid_request_error",
		}
	}
	masked := key
	if len(key) > 8 {
		masked = key[:3] + "*****" + key[len(key)-4:]
	}
	return &APIError{
		Message: "Incorrect API key provided: " + masked + ".",
		Type:    "invalid_request_error",
		Code:    "invalid_api_key",
	}
}

func writeError(w http.ResponseWriter, status int, e *APIError) {
	var code any
	if e.Code != "" {
		code = e.Code
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": e.Message, "type": e.Type, "param": nil, "code": code,
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func errorType(status int) string {
	if status >= 500 {
		return "server_error"
	}
	return "invalid_request_error"
}

func cmpStatus(status int) int {
	if status == 0 {
		return http.StatusOK
	}
	return status
}

func finishReason(reply Response) string {
	if reply.FinishReason != "" {
		return reply.FinishReason
	}
	for _, c := range reply.Chunks {
		if len(c.ToolCalls) > 0 {
			return "tool_calls"
		}
	}
	return "stop"
}

// words splits s after each space, so the pieces concatenate back to s.
func words(s string) []string {
	if s == "" {
		return nil
	}
	return strings.SplitAfter(s, " ")
}

func countUsage(msgs []Message, completion int) *Usage {
	prompt := 0
	for _, m := range msgs {
		prompt += len(strings.Fields(m.Content))
	}
	return &Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// Wire shapes of what the server sends.

type completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []completionChoice `json:"choices"`
	Usage   *Usage             `json:"usage"`
}

type completionChoice struct {
	Index        int               `json:"index"`
	Message      completionMessage `json:"message"`
	Logprobs     *struct{}         `json:"logprobs"`
	FinishReason string            `json:"finish_reason"`
}

type completionMessage struct {
	Role    string  `json:"role"`
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

type chunk struct {
	ID      string          `json:"id"`
	Object  string          `json:"object"`
	Created int64           `json:"created"`
	Model   string          `json:"model"`
	Choices []chunkChoice   `json:"choices"`
	Usage   json.RawMessage `json:"usage,omitempty"`
}

type chunkChoice struct {
	Index        int       `json:"index"`
	Delta        delta     `json:"delta"`
	Logprobs     *struct{} `json:"logprobs"`
	FinishReason *string   `json:"finish_reason"`
}

type delta struct {
	Role      string          `json:"role,omitempty"`
	Content   *string         `json:"content,omitempty"`
	ToolCalls []toolCallDelta `json:"tool_calls,omitempty"`
}

type toolCallDelta struct {
	Index    int           `json:"index"`
	ID       string        `json:"id,omitempty"`
	Type     string        `json:"type,omitempty"`
	Function functionDelta `json:"function"`
}

type functionDelta struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments,omitempty"`
}
