package fakellm

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strings"
)

// DefaultEmbeddingDimensions is the length of the vectors the server answers
// when a request gives no dimensions.
const DefaultEmbeddingDimensions = 8

// maxEmbeddingInputs is OpenAI's limit on inputs per request.
const maxEmbeddingInputs = 2048

// EmbeddingRequest is the decoded body of POST /v1/embeddings.
type EmbeddingRequest struct {
	Model string
	// Input holds the inputs in order; a single string input is one item.
	Input []string
	// InputWasString reports input given as a string rather than an array.
	InputWasString bool
	// Dimensions is the requested length, 0 when absent.
	Dimensions     int
	EncodingFormat string
	// dimensionsSent reports a dimensions field present in the body, even 0.
	dimensionsSent bool
}

// Embedding is one item of an embeddings answer.
type Embedding struct {
	Index  int
	Vector []float32
}

// EmbeddingResponse scripts an embeddings answer: Status >= 400 answers that
// error (Error, or one made from the status); otherwise Data is answered in
// the order given, with Model (default the requested one).
type EmbeddingResponse struct {
	Data   []Embedding
	Model  string
	Status int
	Error  *APIError
}

// Vector is the deterministic vector the server answers for text: dims
// numbers derived from the text's FNV hash, L2-normalised. Equal texts get
// equal vectors; tests compute the expected answer with it.
func Vector(text string, dims int) []float32 {
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		h := fnv.New64a()
		_, _ = fmt.Fprintf(h, "%d\x00%s", i, text)
		x := float64(int64(h.Sum64()>>11))/float64(1<<52) - 1
		v[i] = float32(x)
		norm += x * x
	}
	if norm > 0 {
		for i := range v {
			v[i] = float32(float64(v[i]) / math.Sqrt(norm))
		}
	}
	return v
}

func decodeEmbeddingRequest(raw []byte) (EmbeddingRequest, error) {
	var wire struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		Dimensions     *int            `json:"dimensions"`
		EncodingFormat string          `json:"encoding_format"`
	}
	if err := json.Unmarshal(raw, &wire); err != nil {
		return EmbeddingRequest{}, err
	}
	req := EmbeddingRequest{Model: wire.Model, EncodingFormat: wire.EncodingFormat}
	if wire.Dimensions != nil {
		req.Dimensions, req.dimensionsSent = *wire.Dimensions, true
	}
	switch {
	case len(wire.Input) == 0 || string(wire.Input) == "null":
	case wire.Input[0] == '"':
		var s string
		if err := json.Unmarshal(wire.Input, &s); err != nil {
			return req, err
		}
		req.Input, req.InputWasString = []string{s}, true
	default:
		if err := json.Unmarshal(wire.Input, &req.Input); err != nil {
			return req, fmt.Errorf("input must be a string or an array of strings: %w", err)
		}
	}
	return req, nil
}

// validateEmbedding rejects what OpenAI rejects with 400.
func validateEmbedding(req EmbeddingRequest, decodeErr error) *APIError {
	invalid := func(msg string) *APIError { return &APIError{Message: msg, Type: "invalid_request_error"} }
	switch {
	case decodeErr != nil:
		return invalid("We could not parse the JSON body of your request: " + decodeErr.Error())
	case req.Model == "":
		return invalid("you must provide a model parameter")
	case len(req.Input) == 0:
		return invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
	case len(req.Input) > maxEmbeddingInputs:
		return invalid(fmt.Sprintf("'$.input' is too long: at most %d inputs", maxEmbeddingInputs))
	case req.dimensionsSent && req.Dimensions < 1:
		return invalid(fmt.Sprintf("Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got %d instead.", req.Dimensions))
	case req.EncodingFormat != "" && req.EncodingFormat != "float":
		return invalid("this fake answers encoding_format float only")
	}
	for _, in := range req.Input {
		if in == "" {
			return invalid("'$.input' is invalid: an input is empty")
		}
	}
	return nil
}

func (s *Server) embed(w http.ResponseWriter, req EmbeddingRequest) {
	dims := req.Dimensions
	if dims == 0 {
		dims = DefaultEmbeddingDimensions
	}
	data := make([]Embedding, len(req.Input))
	for i, in := range req.Input {
		data[i] = Embedding{Index: i, Vector: Vector(in, dims)}
	}
	reply := EmbeddingResponse{Data: data}
	if s.EmbedReply != nil {
		reply = s.EmbedReply(req, data)
	}
	if reply.Status >= 400 {
		e := reply.Error
		if e == nil {
			e = &APIError{Message: http.StatusText(reply.Status), Type: errorType(reply.Status)}
		}
		writeError(w, reply.Status, e)
		return
	}
	model := reply.Model
	if model == "" {
		model = req.Model
	}
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float32 `json:"embedding"`
	}
	items := make([]item, len(reply.Data))
	tokens := 0
	for i, d := range reply.Data {
		items[i] = item{Object: "embedding", Index: d.Index, Embedding: d.Vector}
	}
	for _, in := range req.Input {
		tokens += len(strings.Fields(in))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"object": "list", "data": items, "model": model,
		"usage": map[string]int{"prompt_tokens": tokens, "total_tokens": tokens},
	})
}
