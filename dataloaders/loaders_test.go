package dataloaders

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/models"
)

func TestUsersAreBatchedPerOperationAndMissingOnesAreNotFound(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var batches [][]string
	sources := Sources{UsersByIDs: func(_ context.Context, ids []string) (map[string]*models.User, error) {
		mu.Lock()
		batches = append(batches, append([]string(nil), ids...))
		mu.Unlock()
		out := map[string]*models.User{}
		for _, id := range ids {
			if id != "missing" {
				out[id] = &models.User{ID: id}
			}
		}
		return out, nil
	}}
	// A gathering time no scheduler outlasts: the three loads below start at once, and
	// whether they share one fetch must not depend on the machine's load.
	loaders := newLoaders(sources)
	loaders.wait = time.Second
	ctx := context.WithValue(context.Background(), loadersKey{}, loaders)

	var wg sync.WaitGroup
	got := make([]*models.User, 3)
	errs := make([]error, 3)
	for i, id := range []string{"a", "b", "missing"} {
		wg.Go(func() { got[i], errs[i] = For(ctx).User(ctx, id) })
	}
	wg.Wait()
	require.Len(t, batches, 1, "concurrent loads share one fetch")
	require.ElementsMatch(t, []string{"a", "b", "missing"}, batches[0])
	require.Equal(t, "a", got[0].ID, "rows are matched by key, never by position")
	require.Equal(t, "b", got[1].ID)
	require.Equal(t, models.CodeNotFound, models.ErrorCode(errs[2]))

	fresh := context.WithValue(context.Background(), loadersKey{}, newLoaders(sources))
	_, err := For(fresh).User(fresh, "a")
	require.NoError(t, err)
	require.Len(t, batches, 2, "another operation does not share the cache")
}

func TestOneOnboardingSummaryPerOperation(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	opened := map[string]int{}
	sources := Sources{Summary: func(userID string) *onboarding.Summary {
		mu.Lock()
		defer mu.Unlock()
		opened[userID]++
		return new(onboarding.Summary)
	}}
	// A gathering time no scheduler outlasts: the three loads below start at once, and
	// whether they share one fetch must not depend on the machine's load.
	loaders := newLoaders(sources)
	loaders.wait = time.Second
	ctx := context.WithValue(context.Background(), loadersKey{}, loaders)

	var wg sync.WaitGroup
	got := make([]*onboarding.Summary, 4)
	for i := range got {
		wg.Go(func() { got[i] = For(ctx).Summary("caller") })
	}
	wg.Wait()
	for _, m := range got {
		require.Same(t, got[0], m, "sibling fields share the operation's summary")
	}
	require.Equal(t, 1, opened["caller"])

	fresh := context.WithValue(context.Background(), loadersKey{}, newLoaders(sources))
	require.NotSame(t, got[0], For(fresh).Summary("caller"), "another operation reads afresh")
	require.Equal(t, 2, opened["caller"])
}

func TestLoadersAreBuiltOnFirstUse(t *testing.T) {
	t.Parallel()
	l := newLoaders(Sources{
		UsersByIDs: func(context.Context, []string) (map[string]*models.User, error) {
			return map[string]*models.User{"a": {ID: "a"}}, nil
		},
		Summary: func(string) *onboarding.Summary { return new(onboarding.Summary) },
	})
	require.Nil(t, l.users, "an operation that loads no user builds no users loader")
	require.Nil(t, l.summaries, "nor a summary")
	ctx := context.WithValue(context.Background(), loadersKey{}, l)
	u, err := For(ctx).User(ctx, "a")
	require.NoError(t, err)
	require.Equal(t, "a", u.ID)
	require.NotNil(t, l.users)
	require.NotNil(t, For(ctx).Summary("a"))
	require.Len(t, l.summaries, 1)
}

func TestListedTeamsShareOneReadAndOthersAreReadAfresh(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var reads [][]string
	role := models.TeamRoleMember
	sources := Sources{TeamMembers: func(_ context.Context, _ string, teamIDs []string) (map[string][]*models.TeamMember, error) {
		mu.Lock()
		defer mu.Unlock()
		reads = append(reads, append([]string(nil), teamIDs...))
		out := map[string][]*models.TeamMember{}
		for _, id := range teamIDs {
			if id != "not-mine" {
				out[id] = []*models.TeamMember{{TeamID: id, Role: role}}
			}
		}
		return out, nil
	}}
	ctx := context.WithValue(context.Background(), loadersKey{}, newLoaders(sources))
	For(ctx).ListedTeams("caller", []string{"t1", "t2", "t3"})

	var wg sync.WaitGroup
	for _, id := range []string{"t1", "t2", "t3"} {
		wg.Go(func() {
			ms, err := For(ctx).TeamMembers(ctx, "caller", id)
			require.NoError(t, err)
			require.Equal(t, id, ms[0].TeamID)
		})
	}
	wg.Wait()
	require.Len(t, reads, 1, "the listed teams are read at once, whatever the scheduling")
	require.ElementsMatch(t, []string{"t1", "t2", "t3"}, reads[0])

	_, err := For(ctx).TeamMembers(ctx, "caller", "not-mine")
	require.Equal(t, models.CodeNotFound, models.ErrorCode(err))

	// A team no list named (one a mutation returns) is read each time it is asked
	// for, so a later mutation of the operation shows its own change.
	_, err = For(ctx).TeamMembers(ctx, "caller", "t9")
	require.NoError(t, err)
	role = models.TeamRoleAdmin
	ms, err := For(ctx).TeamMembers(ctx, "caller", "t9")
	require.NoError(t, err)
	require.Equal(t, models.TeamRoleAdmin, ms[0].Role)
}
