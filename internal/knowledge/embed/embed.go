// Package embed owns turning texts into vectors for search: the Embedder
// interface, a deterministic built-in embedder that needs nothing (labelled
// "offline" wherever its results show) and a client of the OpenAI-compatible
// POST /embeddings endpoint (OpenAI, Ollama, vLLM). It knows no storage and no
// area.
package embed

import (
	"context"
	"hash/fnv"
	"math"
	"strings"
	"unicode"
)

// Embedder turns texts into vectors of Dimensions() numbers each, in the order
// given; vectors of one Embedder (one Name) compare by cosine similarity.
type Embedder interface {
	// Name labels the vectors: "offline" for the built-in embedder, the model
	// otherwise. Vectors of different names are not comparable.
	Name() string
	// Dimensions is the length of every vector.
	Dimensions() int
	Embed(ctx context.Context, texts []string) ([][]float32, error)
}

// OfflineName is the built-in embedder's Name.
const OfflineName = "offline"

// DefaultOfflineDimensions is Offline's dimension when it is given none.
const DefaultOfflineDimensions = 384

// Offline returns the built-in embedder: feature hashing of lowercased word
// unigrams and bigrams and of character trigrams within words, weighted by
// sublinear term frequency (1 + ln tf), each feature's sign from its hash, the
// vector L2-normalised. It is deterministic and free, and finds passages that
// share words or word parts with the query, not ones that only share meaning.
// dims < 1 means DefaultOfflineDimensions.
func Offline(dims int) Embedder {
	if dims < 1 {
		dims = DefaultOfflineDimensions
	}
	return offline{dims: dims}
}

type offline struct{ dims int }

func (offline) Name() string      { return OfflineName }
func (o offline) Dimensions() int { return o.dims }

func (o offline) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = o.vector(t)
	}
	return out, nil
}

// Feature weights: whole words count most, word pairs add phrase matches,
// trigrams catch inflections and typos.
func kindWeight(kind byte) float64 {
	switch kind {
	case 'w':
		return 1.0
	case 'b':
		return 0.7
	}
	return 0.4
}

func (o offline) vector(text string) []float32 {
	// Each feature is its kind's letter, a NUL, then the text.
	counts := map[string]int{}
	words := tokens(text)
	for i, w := range words {
		counts["w\x00"+w]++
		if i > 0 {
			counts["b\x00"+words[i-1]+" "+w]++
		}
		runes := []rune(" " + w + " ")
		for j := 0; j+3 <= len(runes); j++ {
			counts["c\x00"+string(runes[j:j+3])]++
		}
	}
	v := make([]float64, o.dims)
	for feature, tf := range counts {
		h := fnv.New64a()
		_, _ = h.Write([]byte(feature))
		sum := h.Sum64()
		weight := kindWeight(feature[0]) * (1 + math.Log(float64(tf)))
		idx := int(sum % uint64(o.dims))
		if sum>>63 == 1 {
			weight = -weight
		}
		v[idx] += weight
	}
	var norm float64
	for _, x := range v {
		norm += x * x
	}
	out := make([]float32, o.dims)
	if norm == 0 {
		return out
	}
	norm = math.Sqrt(norm)
	for i, x := range v {
		out[i] = float32(x / norm)
	}
	return out
}

// tokens are the lowercased runs of letters and digits in text.
func tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// Cosine is the cosine similarity of two vectors of equal length (0 when
// either is zero).
func Cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
