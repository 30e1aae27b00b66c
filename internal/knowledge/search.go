package knowledge

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
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

// fullText ranks the user's chunks that contain any of the query's terms: BM25 over
// FTS5 on SQLite, ts_rank over the tsvector on PostgreSQL.
func fullText(ctx context.Context, db bun.IDB, userID, query string, allow map[string]bool, k int) ([]Hit, error) {
	words := terms(query)
	if len(words) == 0 {
		return nil, nil
	}
	var filter string
	args := []any{}
	var sqlText string
	if database.IsSQLite(db) {
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = `"` + w + `"`
		}
		sqlText = `SELECT c.id AS chunk_id, c.document_id FROM document_chunks_fts
			JOIN document_chunks c ON c.id = document_chunks_fts.rowid
			WHERE document_chunks_fts MATCH ? AND c.user_id = ?%s
			ORDER BY bm25(document_chunks_fts) LIMIT ?`
		args = append(args, strings.Join(quoted, " OR "), userID)
	} else {
		return fullTextPG(ctx, db, userID, words, allow, k)
	}
	if allow != nil {
		filter = " AND c.document_id IN (?)"
		args = append(args, bun.List(allowedIDs(allow)))
	}
	args = append(args, k)
	var hits []Hit
	if err := db.NewRaw(fmt.Sprintf(sqlText, filter), args...).Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("full-text search: %w", err)
	}
	for i := range hits {
		hits[i].Score = 1 / float64(i+1)
	}
	return hits, nil
}

func allowedIDs(allow map[string]bool) []string {
	ids := make([]string, 0, len(allow))
	for id := range allow {
		ids = append(ids, id)
	}
	return ids
}

// termCandidates bounds how many of the user's chunks one query term brings to the
// PostgreSQL ranking: ts_rank reads each candidate's tsvector, and a frequent word
// matches most chunks (at 100,000 chunks the ranking took 0.5 s). A term rarer than
// this brings every chunk it matches; a frequent one a sample, whose rank it hardly
// decides.
const termCandidates = 2000

// fullTextPG ranks by ts_rank (the query's terms ORed) the chunks that match a
// term, at most termCandidates of them for each term.
func fullTextPG(ctx context.Context, db bun.IDB, userID string, words []string, allow map[string]bool, k int) ([]Hit, error) {
	var filter string
	var filterArgs []any
	if allow != nil {
		filter = " AND document_id IN (?)"
		filterArgs = []any{bun.List(allowedIDs(allow))}
	}
	parts := make([]string, len(words))
	args := []any{strings.Join(words, " | "), userID}
	for i, w := range words {
		parts[i] = `(SELECT id FROM document_chunks WHERE user_id = ? AND tsv @@ to_tsquery('english', ?)` + filter + ` LIMIT ?)`
		args = append(args, userID, w)
		args = append(args, filterArgs...)
		args = append(args, termCandidates)
	}
	args = append(args, k)
	sqlText := `SELECT c.id AS chunk_id, c.document_id FROM document_chunks c, to_tsquery('english', ?) q
		WHERE c.user_id = ? AND c.id IN (` + strings.Join(parts, " UNION ") + `)
		ORDER BY ts_rank(c.tsv, q) DESC, c.id LIMIT ?`
	var hits []Hit
	if err := db.NewRaw(sqlText, args...).Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("full-text search: %w", err)
	}
	for i := range hits {
		hits[i].Score = 1 / float64(i+1)
	}
	return hits, nil
}

// passages reads the hits' chunks, in the hits' order, as passages.
func passages(ctx context.Context, db bun.IDB, userID string, hits []Hit) ([]*models.Passage, error) {
	out := []*models.Passage{}
	if len(hits) == 0 {
		return out, nil
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ChunkID
	}
	var rows []struct {
		ID         int64  `bun:"id"`
		DocumentID string `bun:"document_id"`
		Position   int    `bun:"position"`
		Start      int    `bun:"start_offset"`
		End        int    `bun:"end_offset"`
		Content    string `bun:"content"`
		Title      string `bun:"title"`
		Embedder   string `bun:"embedder"`
	}
	err := db.NewSelect().TableExpr("document_chunks AS c").Join("JOIN documents AS d ON d.id = c.document_id").
		ColumnExpr("c.id, c.document_id, c.position, c.start_offset, c.end_offset, c.content, d.title, d.embedder").
		Where("c.user_id = ? AND d.user_id = ? AND c.id IN (?)", userID, userID, bun.List(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("read passages: %w", err)
	}
	byID := make(map[int64]int, len(rows))
	for i, r := range rows {
		byID[r.ID] = i
	}
	for _, h := range hits {
		i, ok := byID[h.ChunkID]
		if !ok {
			continue // deleted since it was ranked
		}
		r := rows[i]
		out = append(out, &models.Passage{
			DocumentID: r.DocumentID, DocumentTitle: r.Title, ChunkID: strconv.FormatInt(r.ID, 10), Position: r.Position,
			Start: r.Start, End: r.End, Text: r.Content, Score: h.Score, Embedder: r.Embedder,
		})
	}
	return out, nil
}
