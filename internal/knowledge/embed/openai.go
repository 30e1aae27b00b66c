package embed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// MaxBatch is the most inputs one request to the endpoint carries.
const MaxBatch = 96

// maxResponseBytes bounds an endpoint's answer: 96 vectors of 4,096 floats
// written as JSON take about 8 MB.
const maxResponseBytes = 64 << 20

// ErrEndpoint wraps every error that comes from the endpoint's answer (a
// status, a body that is not an embeddings list, a count or order that does not
// match), as opposed to the caller's context ending or the network failing.
var ErrEndpoint = errors.New("embeddings endpoint")

// OpenAI returns an Embedder calling POST {baseURL}/embeddings, the
// OpenAI-compatible endpoint that OpenAI, Ollama (/v1) and vLLM serve. baseURL
// ends before /embeddings (e.g. https://api.openai.com/v1); apiKey is sent as a
// bearer token when set; dims > 0 is sent as "dimensions" (models that can
// shorten their vectors) and checked in the answer, dims <= 0 takes the model's
// own length, known after the first answer. client nil means
// http.DefaultClient.
func OpenAI(baseURL, apiKey, model string, dims int, client *http.Client) Embedder {
	if client == nil {
		client = http.DefaultClient
	}
	e := &openAI{url: strings.TrimRight(baseURL, "/") + "/embeddings", key: apiKey, model: model, dims: dims, client: client}
	e.seen.Store(int64(max(dims, 0)))
	return e
}

type openAI struct {
	url, key, model string
	dims            int
	client          *http.Client
	seen            atomic.Int64 // the vector length answered, once known
}

// Name is the model, the label its vectors carry.
func (e *openAI) Name() string { return e.model }

// Dimensions is dims when it was given, else the length of the vectors
// answered so far (0 before the first answer).
func (e *openAI) Dimensions() int { return int(e.seen.Load()) }

type embeddingRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format"`
	Dimensions     int      `json:"dimensions,omitempty"`
}

type embeddingResponse struct {
	Data []struct {
		Index     *int      `json:"index"`
		Embedding []float32 `json:"embedding"`
	} `json:"data"`
}

func (e *openAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += MaxBatch {
		batch := texts[start:min(start+MaxBatch, len(texts))]
		vecs, err := e.call(ctx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (e *openAI) call(ctx context.Context, batch []string) ([][]float32, error) {
	// An empty input is refused by OpenAI; a single space embeds as nothing.
	input := make([]string, len(batch))
	for i, t := range batch {
		if strings.TrimSpace(t) == "" {
			t = " "
		}
		input[i] = t
	}
	body, err := json.Marshal(embeddingRequest{Model: e.model, Input: input, EncodingFormat: "float", Dimensions: max(e.dims, 0)})
	if err != nil {
		return nil, fmt.Errorf("embeddings request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("embeddings request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if e.key != "" {
		req.Header.Set("Authorization", "Bearer "+e.key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		// The URL is ours and holds no secret; the error says which host failed.
		return nil, fmt.Errorf("embeddings request: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("embeddings response: %w", err)
	}
	if len(raw) > maxResponseBytes {
		return nil, fmt.Errorf("%w answered more than %d bytes", ErrEndpoint, maxResponseBytes)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w answered %d: %s", ErrEndpoint, resp.StatusCode, e.message(raw, resp.Status))
	}
	var answer embeddingResponse
	if err := json.Unmarshal(raw, &answer); err != nil {
		return nil, fmt.Errorf("%w answered a body that is not an embeddings list: %s", ErrEndpoint, e.redact(snippet(raw)))
	}
	if len(answer.Data) != len(batch) {
		return nil, fmt.Errorf("%w answered %d embeddings for %d inputs", ErrEndpoint, len(answer.Data), len(batch))
	}
	vecs := make([][]float32, len(batch))
	for i, d := range answer.Data {
		idx := i
		if d.Index != nil {
			idx = *d.Index
		}
		if idx < 0 || idx >= len(batch) || vecs[idx] != nil {
			return nil, fmt.Errorf("%w answered index %d twice or out of range for %d inputs", ErrEndpoint, idx, len(batch))
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("%w answered an empty embedding at index %d", ErrEndpoint, idx)
		}
		want := int(e.seen.Load())
		if want == 0 {
			e.seen.CompareAndSwap(0, int64(len(d.Embedding)))
			want = int(e.seen.Load())
		}
		if len(d.Embedding) != want {
			return nil, fmt.Errorf("%w answered %d dimensions at index %d, expected %d", ErrEndpoint, len(d.Embedding), idx, want)
		}
		vecs[idx] = d.Embedding
	}
	return vecs, nil
}

// message is the error an endpoint gave: OpenAI's {"error": {"message"}},
// Ollama's {"error": "..."}, or the start of the body; never the key.
func (e *openAI) message(raw []byte, status string) string {
	var openAIErr struct {
		Error json.RawMessage `json:"error"`
	}
	msg := ""
	if json.Unmarshal(raw, &openAIErr) == nil && len(openAIErr.Error) > 0 {
		var obj struct {
			Message string `json:"message"`
		}
		var s string
		switch {
		case json.Unmarshal(openAIErr.Error, &obj) == nil && obj.Message != "":
			msg = obj.Message
		case json.Unmarshal(openAIErr.Error, &s) == nil:
			msg = s
		}
	}
	if msg == "" {
		msg = snippet(raw)
	}
	if msg == "" {
		msg = status
	}
	return e.redact(msg)
}

// redact removes the key, and anything that looks like a key, from text an
// endpoint echoed.
func (e *openAI) redact(s string) string {
	if e.key != "" {
		s = strings.ReplaceAll(s, e.key, "[redacted]")
	}
	return s
}

func snippet(raw []byte) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
