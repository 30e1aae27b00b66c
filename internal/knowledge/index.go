package knowledge

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"sync"

	"github.com/uptrace/bun"
)

// VectorIndex ranks a user's chunks by similarity to a query vector. ExactIndex
// scans every vector; a dedicated vector database (pgvector's HNSW, Qdrant) would
// implement this when users keep millions of chunks.
type VectorIndex interface {
	// Nearest returns up to k of the user's chunks embedded by embedder that are most
	// similar to query, best first, among the documents allow admits (every one when
	// allow is nil).
	Nearest(ctx context.Context, db bun.IDB, userID, embedder string, query []float32, allow map[string]bool, k int) ([]Hit, error)
}

// Hit is a chunk a ranking found.
type Hit struct {
	ChunkID    int64
	DocumentID string
	Score      float64
}

// ExactIndex computes the cosine similarity of the query with every one of the
// user's vectors. It keeps each user's vectors in memory, normalised, and checks
// before each search with one read of knowledge_versions that they are current (any
// instance's change to the user's chunks bumps it), so a search reads the vectors
// from the database only after a change.
type ExactIndex struct {
	limit int // most vectors kept, all users together; < 0 none

	mu    sync.Mutex
	users map[string]*userVectors
	held  int
	clock uint64 // for least-recently-used eviction
}

// userVectors are one user's vectors as of a version.
type userVectors struct {
	version  int64
	embedder string
	dims     int
	ids      []int64
	docs     []string // per chunk; the strings are shared per document
	vecs     []float32
	used     uint64
}

// NewExactIndex returns an exact index that caches at most limit vectors (none when
// limit < 0).
func NewExactIndex(limit int) *ExactIndex {
	return &ExactIndex{limit: limit, users: map[string]*userVectors{}}
}

// Nearest implements VectorIndex.
func (x *ExactIndex) Nearest(ctx context.Context, db bun.IDB, userID, embedder string, query []float32, allow map[string]bool, k int) ([]Hit, error) {
	uv, err := x.vectors(ctx, db, userID, embedder, len(query))
	if err != nil {
		return nil, err
	}
	q := normalized(query)
	dims := uv.dims
	top := &hitHeap{}
	for i, id := range uv.ids {
		if allow != nil && !allow[uv.docs[i]] {
			continue
		}
		v := uv.vecs[i*dims : (i+1)*dims]
		var dot float32
		for j, f := range v {
			dot += f * q[j]
		}
		score := float64(dot)
		if top.Len() < k {
			heap.Push(top, Hit{ChunkID: id, DocumentID: uv.docs[i], Score: score})
		} else if score > (*top)[0].Score {
			(*top)[0] = Hit{ChunkID: id, DocumentID: uv.docs[i], Score: score}
			heap.Fix(top, 0)
		}
	}
	out := make([]Hit, top.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(top).(Hit)
	}
	return out, nil
}

// vectors returns the user's current vectors of embedder with dims dimensions,
// from the cache when its version is the database's.
func (x *ExactIndex) vectors(ctx context.Context, db bun.IDB, userID, embedder string, dims int) (*userVectors, error) {
	v, err := version(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	if uv, ok := x.users[userID]; ok && uv.version == v && uv.embedder == embedder && uv.dims == dims {
		x.clock++
		uv.used = x.clock
		x.mu.Unlock()
		return uv, nil
	}
	x.mu.Unlock()
	uv, err := loadVectors(ctx, db, userID, embedder, dims)
	if err != nil {
		return nil, err
	}
	uv.version = v
	x.keep(userID, uv)
	return uv, nil
}

// keep caches uv, evicting the least recently used users' vectors beyond the limit.
func (x *ExactIndex) keep(userID string, uv *userVectors) {
	if x.limit < 0 || len(uv.ids) > x.limit {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.users[userID]; ok {
		x.held -= len(old.ids)
	}
	x.clock++
	uv.used = x.clock
	x.users[userID] = uv
	x.held += len(uv.ids)
	for x.held > x.limit {
		oldest, at := "", uint64(math.MaxUint64)
		for id, u := range x.users {
			if u.used < at {
				oldest, at = id, u.used
			}
		}
		x.held -= len(x.users[oldest].ids)
		delete(x.users, oldest)
	}
}

// loadVectors reads the user's vectors of embedder with dims dimensions, normalised.
func loadVectors(ctx context.Context, db bun.IDB, userID, embedder string, dims int) (*userVectors, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.document_id, c.embedding FROM document_chunks c
		JOIN documents d ON d.id = c.document_id
		WHERE c.user_id = ? AND d.user_id = ? AND d.embedder = ? AND c.dimensions = ?
		ORDER BY c.id`, userID, userID, embedder, dims)
	if err != nil {
		return nil, fmt.Errorf("read vectors: %w", err)
	}
	defer rows.Close()
	uv := &userVectors{embedder: embedder, dims: dims}
	docs := map[string]string{}
	var (
		id    int64
		docID string
		raw   []byte
	)
	buf := make([]float32, dims)
	for rows.Next() {
		if err := rows.Scan(&id, &docID, &raw); err != nil {
			return nil, fmt.Errorf("read vectors: %w", err)
		}
		if len(raw) != 4*dims {
			continue
		}
		if d, ok := docs[docID]; ok {
			docID = d
		} else {
			docs[docID] = docID
		}
		decodeVector(raw, buf)
		uv.ids = append(uv.ids, id)
		uv.docs = append(uv.docs, docID)
		uv.vecs = append(uv.vecs, normalized(buf)...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read vectors: %w", err)
	}
	return uv, nil
}

// normalized returns v scaled to length 1 (a zero vector stays zero).
func normalized(v []float32) []float32 {
	var sum float64
	for _, f := range v {
		sum += float64(f) * float64(f)
	}
	out := make([]float32, len(v))
	if sum == 0 {
		return out
	}
	inv := float32(1 / math.Sqrt(sum))
	for i, f := range v {
		out[i] = f * inv
	}
	return out
}

// hitHeap is a min-heap of hits by score: the weakest of the best k on top.
type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return h[i].Score < h[j].Score }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	n := len(old)
	x := old[n-1]
	*h = old[:n-1]
	return x
}
