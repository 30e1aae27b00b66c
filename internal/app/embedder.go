package app

import (
	"net/http"

	"github.com/inkgraph/inkgraph/internal/knowledge/embed"
	"github.com/inkgraph/inkgraph/internal/platform/config"
)

// newEmbedder is the knowledge area's embedder: the OpenAI-compatible endpoint of
// INKGRAPH_EMBEDDINGS_BASE_URL when set, else the offline one (labelled "offline").
func newEmbedder(cfg config.Config) embed.Embedder {
	if cfg.EmbeddingsBaseURL == "" {
		return embed.Offline(cfg.EmbeddingsDimensions)
	}
	return embed.OpenAI(cfg.EmbeddingsBaseURL, cfg.EmbeddingsAPIKey, cfg.EmbeddingsModel, cfg.EmbeddingsDimensions,
		&http.Client{Timeout: cfg.LLMTimeout})
}
