// Package dataloaders batches the reads a GraphQL operation fans out into and
// carries the operation's onboarding summary. Both are made per operation (not per
// connection), so a long-lived subscription never serves a stale cache; resolvers
// reach them through For(ctx).
package dataloaders

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/inkgraph/inkgraph/internal/onboarding"
	"github.com/inkgraph/inkgraph/models"
)

// listWait is how long the users loader gathers keys before it fetches: it takes
// keys from lists, so it waits briefly for sibling fields to join.
const listWait = 200 * time.Microsecond

// Sources are what the loaders are built on.
type Sources struct {
	// UsersByIDs is a store method returning a map by ID, so a missing row can never
	// shift another row into its place.
	UsersByIDs func(ctx context.Context, ids []string) (map[string]*models.User, error)
	// Summary opens a user's onboarding summary, which reads each onboarding table at
	// most once and shares it between the fields that need it.
	Summary func(userID string) *onboarding.Summary
	// TeamMembers returns the members of those of the teams the user is a member of,
	// by team, in one read: a team the user is not in is absent.
	TeamMembers func(ctx context.Context, userID string, teamIDs []string) (map[string][]*models.TeamMember, error)
}

// memberKey is a team whose members a user asks for.
type memberKey struct{ userID, teamID string }

// Loaders are one operation's loaders. Each is built when the operation first asks
// for it: most operations (`{ plans }`, a mutation) need none, and building one costs
// allocations every operation would pay.
type Loaders struct {
	sources Sources
	// wait is the users loader's gathering time (listWait; longer in a test, where
	// scheduling under the race detector can outlast 200 µs).
	wait time.Duration

	usersOnce sync.Once
	users     *dataloadgen.Loader[string, *models.User]

	mu        sync.Mutex
	summaries map[string]*onboarding.Summary // by user: only ever the caller

	// membersMu is held while members are read, so sibling fields asking at once wait
	// for the one read rather than starting their own.
	membersMu sync.Mutex
	listed    map[memberKey]bool                 // teams the operation listed
	members   map[memberKey][]*models.TeamMember // members of listed teams read so far
}

func newLoaders(s Sources) *Loaders {
	return &Loaders{sources: s, wait: listWait}
}

type loadersKey struct{}

// For returns the operation's loaders.
func For(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}

// User loads a user by ID; a missing one is NOT_FOUND.
func (l *Loaders) User(ctx context.Context, id string) (*models.User, error) {
	l.usersOnce.Do(func() {
		l.users = dataloadgen.NewMappedLoader(l.sources.UsersByIDs, dataloadgen.WithWait(l.wait))
	})
	u, err := l.users.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, &models.Error{Code: models.CodeNotFound, Message: "user not found", Err: err}
	}
	return u, err
}

// ListedTeams tells the loaders that the operation listed teamIDs for userID (the
// `teams` field): the first of them whose members are asked for reads the members of
// all of them at once.
func (l *Loaders) ListedTeams(userID string, teamIDs []string) {
	l.membersMu.Lock()
	defer l.membersMu.Unlock()
	if l.listed == nil {
		l.listed = make(map[memberKey]bool, len(teamIDs))
	}
	for _, id := range teamIDs {
		l.listed[memberKey{userID, id}] = true
	}
}

// TeamMembers returns the members of a team for userID (the caller). It reads them
// together with those of every team the operation listed and has not read yet, so
// `teams { members { … } }` is one read of members however many teams there are and
// however gqlgen schedules the fields (no gathering window to outlast). A team the
// caller is not a member of is NOT_FOUND (field teamId).
func (l *Loaders) TeamMembers(ctx context.Context, userID, teamID string) ([]*models.TeamMember, error) {
	l.membersMu.Lock()
	defer l.membersMu.Unlock()
	key := memberKey{userID, teamID}
	if ms, ok := l.members[key]; ok {
		return ms, nil
	}
	ids := []string{teamID}
	for k := range l.listed {
		if _, read := l.members[k]; !read && k.userID == userID && k != key {
			ids = append(ids, k.teamID)
		}
	}
	got, err := l.sources.TeamMembers(ctx, userID, ids)
	if err != nil {
		return nil, err
	}
	if l.members == nil {
		l.members = make(map[memberKey][]*models.TeamMember, len(ids))
	}
	for id, ms := range got {
		// Only listed teams are kept: a team a mutation returns is read afresh each
		// time, so a later mutation of the same operation shows its own change.
		if k := (memberKey{userID, id}); l.listed[k] {
			l.members[k] = ms
		}
	}
	ms, ok := got[teamID]
	if !ok {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "teamId", Message: "team not found"}
	}
	return ms, nil
}

// Summary returns the operation's onboarding summary of userID, the caller: every
// field of the operation that shows onboarding reads from this one.
func (l *Loaders) Summary(userID string) *onboarding.Summary {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.summaries[userID]
	if !ok {
		if l.summaries == nil {
			l.summaries = make(map[string]*onboarding.Summary, 1)
		}
		m = l.sources.Summary(userID)
		l.summaries[userID] = m
	}
	return m
}

// Extension is a gqlgen handler extension that gives every operation fresh loaders.
type Extension struct{ Sources Sources }

var (
	_ graphql.HandlerExtension     = Extension{}
	_ graphql.OperationInterceptor = Extension{}
)

func (Extension) ExtensionName() string                   { return "Dataloaders" }
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation adds the loaders to the operation's context.
func (e Extension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	return next(context.WithValue(ctx, loadersKey{}, newLoaders(e.Sources)))
}
