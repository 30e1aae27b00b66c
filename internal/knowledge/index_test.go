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
