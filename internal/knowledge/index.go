package knowledge

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"

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
// user's vectors. It keeps each user's vectors in memory, normalised, per document,
// and checks before each search with one read of knowledge_versions that they are
// current (any instance's change to the user's chunks bumps it). After a change it
// lists the user's documents and reads again only the chunks of documents added or
// re-ingested since, so a search after one document changed costs that document's
// vectors, not the user's whole collection.
type ExactIndex struct {
	limit int64 // most bytes of vectors kept (4 a dimension), all users together; < 0 none

	mu    sync.Mutex
	users map[string]*userVectors
	held  int64  // bytes
	clock uint64 // for least-recently-used eviction
}

// userVectors are one user's vectors as of a version; never changed once built (a
// newer version is a new value sharing the unchanged documents' segments).
type userVectors struct {
	version  int64
	embedder string
	dims     int
	segments map[string]*segment // by document ID
	count    int
	used     uint64
}

// bytes is the memory the vectors take: 4 bytes a dimension.
func (uv *userVectors) bytes() int64 { return int64(uv.count) * int64(uv.dims) * 4 }

// segment is one document's vectors as of its ingestion.
type segment struct {
	docID      string
	ingestedAt time.Time
	ids        []int64
	vecs       []float32
}

// NewExactIndex returns an exact index that caches at most limit bytes of vectors
// (each chunk's dimensions × 4 bytes, all users together; none when limit < 0).
func NewExactIndex(limit int64) *ExactIndex {
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
	for docID, seg := range uv.segments {
		if allow != nil && !allow[docID] {
			continue
		}
		for i, id := range seg.ids {
			v := seg.vecs[i*dims : (i+1)*dims]
			var dot float32
			for j, f := range v {
				dot += f * q[j]
			}
			score := float64(dot)
			if top.Len() < k {
				heap.Push(top, Hit{ChunkID: id, DocumentID: docID, Score: score})
			} else if score > (*top)[0].Score || (score == (*top)[0].Score && id < (*top)[0].ChunkID) {
				(*top)[0] = Hit{ChunkID: id, DocumentID: docID, Score: score}
				heap.Fix(top, 0)
			}
		}
	}
	out := make([]Hit, top.Len())
	for i := len(out) - 1; i >= 0; i-- {
		out[i] = heap.Pop(top).(Hit)
	}
	return out, nil
}

// vectors returns the user's current vectors of embedder with dims dimensions:
// the cached ones when their version is the database's, else the cached segments
// of unchanged documents and the others read again.
func (x *ExactIndex) vectors(ctx context.Context, db bun.IDB, userID, embedder string, dims int) (*userVectors, error) {
	v, err := version(ctx, db, userID)
	if err != nil {
		return nil, err
	}
	x.mu.Lock()
	cached, ok := x.users[userID]
	if ok && (cached.embedder != embedder || cached.dims != dims) {
		cached, ok = nil, false
	}
	if ok && cached.version == v {
		x.clock++
		cached.used = x.clock
		x.mu.Unlock()
		return cached, nil
	}
	x.mu.Unlock()
	docs, err := embeddedDocuments(ctx, db, userID, embedder, dims)
	if err != nil {
		return nil, err
	}
	uv := &userVectors{version: v, embedder: embedder, dims: dims, segments: make(map[string]*segment, len(docs))}
	var stale []string
	for id, at := range docs {
		if ok {
			if seg, kept := cached.segments[id]; kept && seg.ingestedAt.Equal(at) {
				uv.segments[id] = seg
				uv.count += len(seg.ids)
				continue
			}
		}
		stale = append(stale, id)
	}
	if len(stale) > 0 {
		read, err := loadSegments(ctx, db, userID, stale, dims)
		if err != nil {
			return nil, err
		}
		for _, seg := range read {
			seg.ingestedAt = docs[seg.docID]
			uv.segments[seg.docID] = seg
			uv.count += len(seg.ids)
		}
	}
	x.keep(userID, uv)
	return uv, nil
}

// keep caches uv, evicting the least recently used users' vectors beyond the limit.
func (x *ExactIndex) keep(userID string, uv *userVectors) {
	if x.limit < 0 || uv.bytes() > x.limit {
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if old, ok := x.users[userID]; ok {
		x.held -= old.bytes()
	}
	x.clock++
	uv.used = x.clock
	x.users[userID] = uv
	x.held += uv.bytes()
	for x.held > x.limit {
		oldest, at := "", uint64(math.MaxUint64)
		for id, u := range x.users {
			if u.used < at {
				oldest, at = id, u.used
			}
		}
		x.held -= x.users[oldest].bytes()
		delete(x.users, oldest)
	}
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
