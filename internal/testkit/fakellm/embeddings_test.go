package fakellm_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

// OpenAI's own client reads the fake's embeddings as it reads OpenAI's.
func TestEmbeddingsWithOpenAIClient(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-embed-key"))
	client := openai.NewClient(option.WithBaseURL(srv.URL()), option.WithAPIKey("sk-embed-key"), option.WithMaxRetries(0))
	res, err := client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model:      "text-embedding-3-small",
		Input:      openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"green tea", "black tea"}},
		Dimensions: openai.Int(4),
	})
	require.NoError(t, err)
	require.Len(t, res.Data, 2)
	for i, text := range []string{"green tea", "black tea"} {
		require.EqualValues(t, i, res.Data[i].Index)
		want := fakellm.Vector(text, 4)
		require.Len(t, res.Data[i].Embedding, 4)
		for j := range want {
			require.InDelta(t, want[j], res.Data[i].Embedding[j], 1e-6)
		}
	}
	require.Equal(t, "text-embedding-3-small", res.Model)
	reqs := srv.Requests()
	require.Equal(t, []string{"green tea", "black tea"}, reqs[0].Embedding.Input)
	require.Equal(t, 4, reqs[0].Embedding.Dimensions)

	// The default length, and a single string as input.
	res, err = client.Embeddings.New(context.Background(), openai.EmbeddingNewParams{
		Model: "m", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("one")},
	})
	require.NoError(t, err)
	require.Len(t, res.Data[0].Embedding, fakellm.DefaultEmbeddingDimensions)
}

func TestEmbeddingsRejects(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-embed-key"))
	auth := http.Header{"Authorization": {"Bearer sk-embed-key"}}
	cases := []struct {
		name, body string
		header     http.Header
		status     int
		message    string
	}{
		{"no key", `{"model":"m","input":["a"]}`, nil, 401, "You didn't provide an API key"},
		{"wrong key", `{"model":"m","input":["a"]}`, http.Header{"Authorization": {"Bearer sk-wrong-key-123"}}, 401, "Incorrect API key provided: sk-*****-123."},
		{"no model", `{"input":["a"]}`, auth, 400, "you must provide a model parameter"},
		{"no input", `{"model":"m","input":[]}`, auth, 400, "'$.input' is invalid"},
		{"empty input", `{"model":"m","input":["a",""]}`, auth, 400, "an input is empty"},
		{"bad dimensions", `{"model":"m","input":["a"],"dimensions":0}`, auth, 400, "Invalid 'dimensions'"},
		{"not json", `{`, auth, 400, "We could not parse the JSON body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := post(t, context.Background(), srv.URL()+"/embeddings", c.body, c.header)
			require.Equal(t, c.status, res.StatusCode)
			body := decode(t, res)
			require.Contains(t, body["error"].(map[string]any)["message"], c.message)
		})
	}
}

func TestEmbeddingsScripted(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	srv.EmbedReply = func(req fakellm.EmbeddingRequest, data []fakellm.Embedding) fakellm.EmbeddingResponse {
		// Answer in reverse order, as an endpoint may.
		for i, j := 0, len(data)-1; i < j; i, j = i+1, j-1 {
			data[i], data[j] = data[j], data[i]
		}
		return fakellm.EmbeddingResponse{Data: data}
	}
	res := post(t, context.Background(), srv.URL()+"/embeddings", `{"model":"m","input":["a","b"]}`, nil)
	require.Equal(t, 200, res.StatusCode)
	body := decode(t, res)
	data := body["data"].([]any)
	require.EqualValues(t, 1, data[0].(map[string]any)["index"])
	require.EqualValues(t, 0, data[1].(map[string]any)["index"])
}
