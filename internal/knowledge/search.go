package knowledge

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/inkgraph/inkgraph/models"
)

// rrfK is reciprocal rank fusion's constant: a chunk's fused score is the sum over
// the rankings that found it of 1/(rrfK + rank), rank from 1.
const rrfK = 60

// mode is which rankings a search fuses.
type mode int

const (
	hybrid mode = iota
	fullTextOnly
	vectorOnly
)

// Search returns the passages of the user's READY documents that best answer
// query, best first: first of them (1 to 50, 5 when 0), from the documents
// documentIDs names (all when empty) and tagged tag (any when ""). Full-text ranking
// and vector similarity are fused by reciprocal rank. NOT_FOUND on field documentIds
// when one of them is not the user's.
func (s *Service) Search(ctx context.Context, userID, query string, first int, documentIDs []string, tag string) ([]*models.Passage, error) {
	return s.search(ctx, userID, query, first, documentIDs, tag, hybrid)
}

func (s *Service) search(ctx context.Context, userID, query string, first int, documentIDs []string, tag string, m mode) ([]*models.Passage, error) {
	query = strings.TrimSpace(query)
	if query == "" || utf8.RuneCountInString(query) > maxQuery {
		return nil, models.InvalidInput("query", "a query must have 1 to %d characters", maxQuery)
	}
	switch {
	case first == 0:
		first = defaultSearch
	case first < 1 || first > maxFirst:
		return nil, models.InvalidInput("first", "first must be between 1 and %d, got %d", maxFirst, first)
	}
	if !printable(tag) {
		return nil, models.InvalidInput("tag", "a tag may not contain control characters")
	}
	allow, err := s.allowed(ctx, userID, documentIDs, strings.TrimSpace(tag))
	if err != nil {
		return nil, err
	}
	if allow != nil && len(allow) == 0 {
		return []*models.Passage{}, nil
	}
	// Each ranking contributes its best candidates; fusion picks among them.
	k := max(50, 4*first)
	var rankings [][]Hit
	if m != vectorOnly {
		hits, err := fullText(ctx, s.db, userID, query, allow, k)
		if err != nil {
			return nil, err
		}
		rankings = append(rankings, hits)
	}
	if m != fullTextOnly {
		vecs, err := s.embedder.Embed(ctx, []string{query})
		if err != nil {
			return nil, &models.Error{Code: models.CodeUpstreamUnavailable, Message: "the embeddings endpoint did not answer: try again later", Err: err}
		}
		if len(vecs) != 1 {
			return nil, models.Internal(fmt.Errorf("%d vectors for one query", len(vecs)), "embed the query")
		}
		hits, err := s.index.Nearest(ctx, s.db, userID, s.embedder.Name(), vecs[0], allow, k)
		if err != nil {
			return nil, err
		}
		rankings = append(rankings, hits)
	}
	fused := fuse(rankings, first)
	return passages(ctx, s.db, userID, fused)
}

// allowed is the set of documents a search may return passages of: nil for all.
func (s *Service) allowed(ctx context.Context, userID string, documentIDs []string, tag string) (map[string]bool, error) {
	var allow map[string]bool
	if len(documentIDs) > 0 {
		if len(documentIDs) > maxPage {
			return nil, models.InvalidInput("documentIds", "name at most %d documents", maxPage)
		}
		ids := make([]string, len(documentIDs))
		for i, id := range documentIDs {
			var err error
			if ids[i], err = parseID(id, "documentIds"); err != nil {
				return nil, err
			}
		}
		mine, err := documentsOfUser(ctx, s.db, userID, ids)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if !mine[id] {
				return nil, notFound("documentIds")
			}
		}
		allow = mine
	}
	if tag != "" {
		tagged, err := taggedDocuments(ctx, s.db, userID, tag)
		if err != nil {
			return nil, err
		}
		in := make(map[string]bool, len(tagged))
		for _, id := range tagged {
			if allow == nil || allow[id] {
				in[id] = true
			}
		}
		allow = in
	}
	return allow, nil
}

// fuse merges rankings by reciprocal rank and keeps the best n.
func fuse(rankings [][]Hit, n int) []Hit {
	scores := map[int64]*Hit{}
	var order []int64
	for _, ranking := range rankings {
		for rank, h := range ranking {
			f, ok := scores[h.ChunkID]
			if !ok {
				f = &Hit{ChunkID: h.ChunkID, DocumentID: h.DocumentID}
				scores[h.ChunkID] = f
				order = append(order, h.ChunkID)
			}
			f.Score += 1 / float64(rrfK+rank+1)
		}
	}
	out := make([]Hit, 0, len(order))
	for _, id := range order {
		out = append(out, *scores[id])
	}
	// Stable: on a tie, the chunk found first (the full-text ranking's) wins.
	slices.SortStableFunc(out, func(a, b Hit) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return 0
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// terms are a query's words, lowercase, each once, at most 32: what the full-text
// query ORs together. Only letters and digits reach either dialect's query syntax.
func terms(query string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(strings.ToLower(query), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
		if len(out) == 32 {
			break
		}
	}
	return out
}

// termCandidates bounds how many of the user's chunks one query term brings to the
// PostgreSQL ranking: ts_rank reads each candidate's tsvector, and a frequent word
// matches most chunks (at 100,000 chunks the ranking took 0.5 s). A term rarer than
// this brings every chunk it matches; a frequent one a sample, whose rank it hardly
// decides.
const termCandidates = 2000
