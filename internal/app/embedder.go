package app

import (
	"context"
	"hash/fnv"
	"strings"
	"unicode"

	"github.com/inkgraph/inkgraph/internal/knowledge"
	"github.com/inkgraph/inkgraph/internal/platform/config"
)

// TEMPORARY until internal/knowledge/embed lands: a hashed bag of words.
func newEmbedder(cfg config.Config) knowledge.Embedder { return bag{dims: cfg.EmbeddingsDimensions} }

type bag struct{ dims int }

func (bag) Name() string      { return "offline" }
func (b bag) Dimensions() int { return b.dims }
func (b bag) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, b.dims)
		for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
			h := fnv.New32a()
			_, _ = h.Write([]byte(w))
			v[int(h.Sum32())%b.dims]++
		}
		out[i] = v
	}
	return out, nil
}
