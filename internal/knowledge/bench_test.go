package knowledge

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/knowledge/embed"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// BenchmarkKnowledgeScale measures, on PostgreSQL with the offline embedder (384
// dimensions), one user's ingestion throughput (chunks per second, extraction,
// embedding and storing together) and hybrid search latency (p50, p99 over 200
// queries, the vectors cached) at 10,000 and then 100,000 chunks, the first search
// after many documents were added (their vectors read) and the first after one more. It builds its corpus once: run
// it with -benchtime=1x.
//
//	go test ./internal/knowledge -run '^$' -bench KnowledgeScale -benchtime=1x -timeout 30m
func BenchmarkKnowledgeScale(b *testing.B) {
	db := testkit.NewDB(b, testkit.Postgres)
	ctx := context.Background()
	e := newEnv(b, db, Config{})
	e.svc.embedder = embed.Offline(384)
	user := e.newUser(b, models.TierTeam)
	words := vocabulary(5000)
	rng := rand.New(rand.NewPCG(1, 2))
	chunks := 0
	const perDoc = 100 // about 100 chunks of ~1,200 bytes per document

	b.ResetTimer()
	for _, target := range []int{10_000, 100_000} {
		start, before := time.Now(), chunks
		for chunks < target {
			body := document(rng, words, perDoc)
			d := e.ingest(b, user, fmt.Sprint("doc ", chunks), "text/markdown", body)
			chunks += d.ChunkCount
		}
		rate := float64(chunks-before) / time.Since(start).Seconds()
		label := fmt.Sprintf("%dk", target/1000)

		queries := make([]string, 200)
		for i := range queries {
			queries[i] = strings.Join([]string{words[zipf(rng, len(words))], words[zipf(rng, len(words))], words[rng.IntN(len(words))]}, " ")
		}
		cold := time.Now()
		_, err := e.svc.Search(ctx, user, queries[0], 5, nil, "")
		require.NoError(b, err)
		coldMS := time.Since(cold).Seconds() * 1000
		lat := make([]float64, len(queries))
		for i, q := range queries {
			t0 := time.Now()
			got, err := e.svc.Search(ctx, user, q, 5, nil, "")
			require.NoError(b, err)
			require.NotEmpty(b, got)
			lat[i] = time.Since(t0).Seconds() * 1000
		}
		slices.Sort(lat)
		// Each ranking alone, to tell where the time goes.
		for _, m := range []struct {
			name string
			mode mode
		}{{"fulltext", fullTextOnly}, {"vector", vectorOnly}} {
			part := make([]float64, 50)
			for i := range part {
				t0 := time.Now()
				_, err := e.svc.search(ctx, user, queries[i], 5, nil, "", m.mode)
				require.NoError(b, err)
				part[i] = time.Since(t0).Seconds() * 1000
			}
			slices.Sort(part)
			b.ReportMetric(part[len(part)/2], m.name+"_p50_ms_"+label)
		}
		// One more document, then a search: only its vectors are read again.
		d := e.ingest(b, user, "one more", "text/markdown", document(rng, words, perDoc))
		chunks += d.ChunkCount
		t1 := time.Now()
		_, err = e.svc.Search(ctx, user, queries[1], 5, nil, "")
		require.NoError(b, err)
		b.ReportMetric(time.Since(t1).Seconds()*1000, "search_after_one_more_doc_ms_"+label)
		b.ReportMetric(rate, "ingest_chunks/s_to_"+label)
		b.ReportMetric(lat[len(lat)/2], "search_p50_ms_"+label)
		b.ReportMetric(lat[len(lat)*99/100], "search_p99_ms_"+label)
		b.ReportMetric(coldMS, "search_cold_ms_"+label)
		b.Logf("%d chunks: ingestion %.0f chunks/s; search p50 %.1f ms, p99 %.1f ms, first after a change %.0f ms",
			chunks, rate, lat[len(lat)/2], lat[len(lat)*99/100], coldMS)
	}
}

// vocabulary makes n distinct pronounceable words.
func vocabulary(n int) []string {
	syll := []string{"ka", "lo", "mi", "ren", "to", "sa", "vel", "qu", "ni", "bor", "te", "da", "ph", "ost", "ur", "gan"}
	rng := rand.New(rand.NewPCG(7, 9))
	seen := map[string]bool{}
	var out []string
	for len(out) < n {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// zipf picks an index in [0, n) with a heavy head, as words in text are.
func zipf(rng *rand.Rand, n int) int {
	return min(n-1, int(float64(n)*rng.Float64()*rng.Float64()*rng.Float64()))
}

// document is a Markdown document of about chunks × 1,100 bytes: sections of
// paragraphs of Zipf-distributed words.
func document(rng *rand.Rand, words []string, chunks int) string {
	var b strings.Builder
	for s := range chunks / 4 {
		fmt.Fprintf(&b, "## Section %d %s\n\n", s, words[rng.IntN(len(words))])
		for range 4 {
			for w := range 150 {
				if w > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(words[zipf(rng, len(words))])
			}
			b.WriteString(".\n\n")
		}
	}
	return b.String()
}
