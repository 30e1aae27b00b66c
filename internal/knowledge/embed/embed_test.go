package embed_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/knowledge/embed"
	"github.com/inkgraph/inkgraph/internal/testkit/fakellm"
)

func TestOffline(t *testing.T) {
	t.Parallel()
	e := embed.Offline(0)
	require.Equal(t, "offline", e.Name())
	require.Equal(t, embed.DefaultOfflineDimensions, e.Dimensions())
	texts := []string{
		"How long should green tea steep?",
		"Steep green tea for two minutes at 80 degrees.",
		"The invoice is due at the end of the month.",
		"",
	}
	vecs, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, vecs, len(texts))
	for _, v := range vecs[:3] {
		require.Len(t, v, embed.DefaultOfflineDimensions)
		var norm float64
		for _, x := range v {
			norm += float64(x) * float64(x)
		}
		require.InDelta(t, 1, math.Sqrt(norm), 1e-5)
	}
	require.Len(t, vecs[3], embed.DefaultOfflineDimensions) // zero, not an error
	require.Zero(t, embed.Cosine(vecs[3], vecs[0]))

	// Related text is closer than unrelated text.
	require.Greater(t, embed.Cosine(vecs[0], vecs[1]), embed.Cosine(vecs[0], vecs[2])+0.1)
	// Case and punctuation do not matter; the answer is the same every time.
	again, err := embed.Offline(0).Embed(context.Background(), []string{"HOW long should GREEN tea steep"})
	require.NoError(t, err)
	require.Equal(t, vecs[0], again[0])
	// Inflections still match through trigrams.
	inflected, _ := e.Embed(context.Background(), []string{"steeping", "steeped", "invoices"})
	require.Greater(t, embed.Cosine(inflected[0], inflected[1]), embed.Cosine(inflected[0], inflected[2]))

	small := embed.Offline(16)
	v, _ := small.Embed(context.Background(), []string{"x"})
	require.Len(t, v[0], 16)
}

func TestOpenAIAgainstFake(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-secret-embedding-key"))
	e := embed.OpenAI(srv.URL(), "sk-secret-embedding-key", "text-embedding-3-small", 12, nil)
	require.Equal(t, "text-embedding-3-small", e.Name())
	require.Equal(t, 12, e.Dimensions())

	texts := make([]string, 200)
	for i := range texts {
		texts[i] = fmt.Sprintf("text number %d", i)
	}
	texts[5] = "" // sent as a space: endpoints refuse empty inputs
	vecs, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	require.Len(t, vecs, 200)
	for i, text := range texts {
		if text == "" {
			text = " "
		}
		require.Equal(t, fakellm.Vector(text, 12), vecs[i], "input %d", i)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 3) // 96 + 96 + 8
	require.Len(t, reqs[0].Embedding.Input, 96)
	require.Len(t, reqs[2].Embedding.Input, 8)
	require.Equal(t, 12, reqs[0].Embedding.Dimensions)
}

func TestOpenAIWithoutDimensions(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t)
	e := embed.OpenAI(srv.URL()+"/", "", "nomic-embed-text", 0, &http.Client{})
	require.Zero(t, e.Dimensions())
	vecs, err := e.Embed(context.Background(), []string{"a"})
	require.NoError(t, err)
	require.Len(t, vecs[0], fakellm.DefaultEmbeddingDimensions)
	require.Equal(t, fakellm.DefaultEmbeddingDimensions, e.Dimensions())
	var raw map[string]any
	require.NoError(t, json.Unmarshal(srv.Requests()[0].Raw, &raw))
	require.NotContains(t, raw, "dimensions")
	require.NotContains(t, srv.Requests()[0].Header, "Authorization")
}

func TestOpenAIAnswersChecked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		reply func(data []fakellm.Embedding) fakellm.EmbeddingResponse
		want  string
	}{
		{"reordered by index", func(data []fakellm.Embedding) fakellm.EmbeddingResponse {
			data[0], data[2] = data[2], data[0]
			return fakellm.EmbeddingResponse{Data: data}
		}, ""},
		{"one missing", func(data []fakellm.Embedding) fakellm.EmbeddingResponse {
			return fakellm.EmbeddingResponse{Data: data[:2]}
		}, "answered 2 embeddings for 3 inputs"},
		{"index twice", func(data []fakellm.Embedding) fakellm.EmbeddingResponse {
			data[2].Index = 0
			return fakellm.EmbeddingResponse{Data: data}
		}, "answered index 0 twice or out of range"},
		{"index out of range", func(data []fakellm.Embedding) fakellm.EmbeddingResponse {
			data[2].Index = 3
			return fakellm.EmbeddingResponse{Data: data}
		}, "answered index 3 twice or out of range"},
		{"wrong length", func(data []fakellm.Embedding) fakellm.EmbeddingResponse {
			data[1].Vector = data[1].Vector[:3]
			return fakellm.EmbeddingResponse{Data: data}
		}, "answered 3 dimensions at index 1, expected 4"},
		{"rate limited", func([]fakellm.Embedding) fakellm.EmbeddingResponse {
			return fakellm.EmbeddingResponse{Status: 429, Error: &fakellm.APIError{Message: "Rate limit reached for sk-secret-embedding-key", Type: "requests"}}
		}, "answered 429: Rate limit reached for [redacted]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := fakellm.New(t)
			srv.EmbedReply = func(_ fakellm.EmbeddingRequest, data []fakellm.Embedding) fakellm.EmbeddingResponse {
				return c.reply(data)
			}
			e := embed.OpenAI(srv.URL(), "sk-secret-embedding-key", "m", 4, nil)
			vecs, err := e.Embed(context.Background(), []string{"a", "b", "c"})
			if c.want == "" {
				require.NoError(t, err)
				for i, text := range []string{"a", "b", "c"} {
					require.Equal(t, fakellm.Vector(text, 4), vecs[i])
				}
				return
			}
			require.ErrorIs(t, err, embed.ErrEndpoint)
			require.Contains(t, err.Error(), c.want)
			require.NotContains(t, err.Error(), "sk-secret")
		})
	}
}

func TestOpenAIWrongKey(t *testing.T) {
	t.Parallel()
	srv := fakellm.New(t, fakellm.WithAPIKey("sk-right-key-0000"))
	e := embed.OpenAI(srv.URL(), "sk-wrong-key-123456", "m", 0, nil)
	_, err := e.Embed(context.Background(), []string{"a"})
	require.ErrorIs(t, err, embed.ErrEndpoint)
	require.Contains(t, err.Error(), "answered 401: Incorrect API key provided")
	require.NotContains(t, err.Error(), "sk-wrong-key-123456")

	// A server that is not an embeddings endpoint at all.
	notAPI := fakellm.New(t)
	notAPI.EmbedReply = func(fakellm.EmbeddingRequest, []fakellm.Embedding) fakellm.EmbeddingResponse {
		return fakellm.EmbeddingResponse{Status: http.StatusBadGateway}
	}
	_, err = embed.OpenAI(notAPI.URL(), "", "m", 0, nil).Embed(context.Background(), []string{"a"})
	require.EqualError(t, err, "embeddings endpoint answered 502: Bad Gateway")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = embed.OpenAI(notAPI.URL(), "", "m", 0, nil).Embed(ctx, []string{"a"})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, embed.ErrEndpoint))
}
