package extract_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/knowledge/extract"
)

func TestChunkAlongSectionsAndParagraphs(t *testing.T) {
	t.Parallel()
	doc, err := extract.Extract([]byte("# Tea\n\nGreen tea is mild. It is steamed.\n\nBlack tea is strong.\n\n"+
		"# Coffee\n\nCoffee is roasted. Espresso is pressed. Filter coffee drips slowly through paper."), "text/markdown")
	require.NoError(t, err)
	pieces := extract.Chunk(doc, 60, 0)
	var got []string
	for _, p := range pieces {
		got = append(got, p.Heading+": "+p.Text)
	}
	require.Equal(t, []string{
		"Tea: Tea\n\nGreen tea is mild. It is steamed.",
		"Tea: Black tea is strong.",
		"Coffee: Coffee\n\nCoffee is roasted. Espresso is pressed.",
		"Coffee: Filter coffee drips slowly through paper.",
	}, got)

	overlapped := extract.Chunk(doc, 60, 20)
	require.Equal(t, "Tea\n\nGreen tea is mild. It is steamed.", overlapped[0].Text)
	// The next piece repeats the previous one's last sentence, from a word start.
	require.Equal(t, "It is steamed.\n\nBlack tea is strong.", overlapped[1].Text)
	require.Equal(t, "Tea", overlapped[1].Heading)
}

// The properties every chunking must keep, on random documents mixing
// headings, paragraphs, long sentences, words longer than a piece and
// multi-byte runes.
func TestChunkProperties(t *testing.T) {
	t.Parallel()
	words := []string{"tea", "leaf", "élan", "日本語", "🍵", "steep", "x", "aVeryLongWordThatDoesNotFitAnywhereAtAllReallyNotEvenClose"}
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 7))
		var src strings.Builder
		for range r.IntN(30) {
			switch r.IntN(6) {
			case 0:
				src.WriteString(strings.Repeat("#", 1+r.IntN(3)) + " Heading " + words[r.IntN(len(words))] + "\n\n")
			default:
				for range 1 + r.IntN(20) {
					src.WriteString(words[r.IntN(len(words))])
					switch r.IntN(8) {
					case 0:
						src.WriteString(". ")
					case 1:
						src.WriteString("\n")
					default:
						src.WriteString(" ")
					}
				}
				src.WriteString("\n\n")
			}
		}
		doc, err := extract.Extract([]byte(src.String()), "text/markdown")
		if err != nil {
			require.ErrorIs(t, err, extract.ErrEmpty)
			continue
		}
		maxBytes := 16 + r.IntN(200)
		overlap := r.IntN(maxBytes)
		pieces := extract.Chunk(doc, maxBytes, overlap)
		covered := make([]bool, len(doc.Text))
		for i, p := range pieces {
			require.Equal(t, doc.Text[p.Start:p.End], p.Text, "seed %d", seed)
			require.LessOrEqual(t, p.End-p.Start, maxBytes, "seed %d", seed)
			require.True(t, utf8.ValidString(p.Text), "seed %d: piece %q cuts a rune", seed, p.Text)
			require.NotEmpty(t, strings.TrimSpace(p.Text))
			if i > 0 {
				require.Greater(t, p.Start, pieces[i-1].Start, "seed %d: out of order", seed)
				require.Greater(t, p.End, pieces[i-1].End, "seed %d: out of order", seed)
			}
			for j := p.Start; j < p.End; j++ {
				covered[j] = true
			}
		}
		for j, c := range []byte(doc.Text) {
			if !covered[j] {
				require.True(t, unicode.IsSpace(rune(c)), "seed %d: byte %d (%q) in no piece", seed, j, c)
			}
		}
	}
}
