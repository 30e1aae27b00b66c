package knowledge

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// question is one of testdata/quality/questions.json: a question, the document that
// answers it and a phrase of the answer.
type question struct {
	Question string `json:"question"`
	Document string `json:"document"`
	Answer   string `json:"answer"`
}

// TestRetrievalQuality ingests the small corpus in testdata/quality and measures,
// for each ranking, recall@5: the share of questions for which a passage of the
// answering document that holds the answer is among the first five. Hybrid search
// must do at least as well as the better of full text and vector alone.
func TestRetrievalQuality(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "quality", "questions.json"))
	require.NoError(t, err)
	var questions []question
	require.NoError(t, json.Unmarshal(raw, &questions))
	require.GreaterOrEqual(t, len(questions), 20)

	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		// Small chunks, so that a question must find the right part of a document.
		e := newEnv(t, db, Config{ChunkBytes: 300, OverlapBytes: 40})
		user := e.newUser(t, models.TierPro)
		files, err := os.ReadDir(filepath.Join("testdata", "quality"))
		require.NoError(t, err)
		docs := map[string]string{} // file name → document ID
		for _, f := range files {
			mt := map[string]string{".md": "text/markdown", ".txt": "text/plain"}[filepath.Ext(f.Name())]
			if mt == "" {
				continue
			}
			body, err := os.ReadFile(filepath.Join("testdata", "quality", f.Name()))
			require.NoError(t, err)
			docs[f.Name()] = e.ingest(t, user, f.Name(), mt, string(body)).ID
		}
		require.Len(t, docs, 12)

		recall := func(m mode) float64 {
			found := 0
			for _, q := range questions {
				docID, ok := docs[q.Document]
				require.True(t, ok, q.Document)
				got, err := e.svc.search(ctx, user, q.Question, 5, nil, "", m)
				require.NoError(t, err)
				for _, p := range got {
					if p.DocumentID == docID && strings.Contains(p.Text, q.Answer) {
						found++
						break
					}
				}
			}
			return float64(found) / float64(len(questions))
		}
		fts, vec, hyb := recall(fullTextOnly), recall(vectorOnly), recall(hybrid)
		t.Logf("recall@5 over %d questions: full text %.2f, vector (offline) %.2f, hybrid %.2f", len(questions), fts, vec, hyb)
		require.GreaterOrEqual(t, hyb, max(fts, vec), "hybrid search must not do worse than either ranking alone")
	})
}
