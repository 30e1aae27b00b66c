package knowledge

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// TestExactIndexFollowsChanges: the cached vectors follow every change to the user's
// chunks, and after a change only the changed documents are read again.
func TestExactIndexFollowsChanges(t *testing.T) {
	t.Parallel()
	testkit.EachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		e := newEnv(t, db, Config{ChunkBytes: 200, OverlapBytes: 20})
		x := e.svc.index.(*ExactIndex)
		user := e.newUser(t, models.TierPro)
		garden := e.ingest(t, user, "Garden", "text/markdown", gardening)
		query, err := e.svc.embedder.Embed(ctx, []string{"bread yeast flour"})
		require.NoError(t, err)
		nearest := func() []Hit {
			hits, err := x.Nearest(ctx, db, user, e.svc.embedder.Name(), query[0], nil, 50)
			require.NoError(t, err)
			return hits
		}
		require.Len(t, nearest(), garden.ChunkCount)
		before := x.users[user].segments[garden.ID]
		require.NotNil(t, before)

		bread := e.ingest(t, user, "Bread", "text/markdown", cooking)
		hits := nearest()
		require.Len(t, hits, garden.ChunkCount+bread.ChunkCount)
		require.Equal(t, bread.ID, hits[0].DocumentID, "the new document is searched")
		require.Same(t, before, x.users[user].segments[garden.ID], "the unchanged document is not read again")

		_, err = e.svc.ReingestDocument(ctx, user, garden.ID)
		require.NoError(t, err)
		e.drain(t)
		require.Len(t, nearest(), garden.ChunkCount+bread.ChunkCount)
		require.NotSame(t, before, x.users[user].segments[garden.ID], "the re-ingested document is read again")

		_, err = e.svc.DeleteDocument(ctx, user, bread.ID)
		require.NoError(t, err)
		for _, h := range nearest() {
			require.Equal(t, garden.ID, h.DocumentID, "the deleted document is gone")
		}
	})
}

// TestExactIndexBudgetsBytes: the cache's limit is bytes of vectors (chunks ×
// dimensions × 4), not chunks.
func TestExactIndexBudgetsBytes(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t, testkit.SQLite)
	ctx := context.Background()
	e := newEnv(t, db, Config{ChunkBytes: 200, OverlapBytes: 20})
	a, b := e.newUser(t, models.TierPro), e.newUser(t, models.TierPro)
	doc := e.ingest(t, a, "Garden", "text/markdown", gardening)
	e.ingest(t, b, "Garden", "text/markdown", gardening)
	dims := e.svc.embedder.Dimensions()
	x := NewExactIndex(int64(doc.ChunkCount * dims * 4))
	query, err := e.svc.embedder.Embed(ctx, []string{"roses"})
	require.NoError(t, err)
	for _, user := range []string{a, b} {
		hits, err := x.Nearest(ctx, db, user, e.svc.embedder.Name(), query[0], nil, 50)
		require.NoError(t, err)
		require.Len(t, hits, doc.ChunkCount)
	}
	require.NotContains(t, x.users, a, "one user's vectors fill the budget")
	require.Contains(t, x.users, b)
	require.Equal(t, int64(doc.ChunkCount*dims*4), x.held)
	short := NewExactIndex(int64(doc.ChunkCount*dims*4 - 1))
	_, err = short.Nearest(ctx, db, a, e.svc.embedder.Name(), query[0], nil, 50)
	require.NoError(t, err)
	require.Empty(t, short.users, "a user whose vectors exceed the budget is not cached")
}
