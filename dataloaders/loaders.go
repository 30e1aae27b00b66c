// Package dataloaders batches the reads a GraphQL operation fans out into. Loaders are
// made per operation (not per connection), so a long-lived subscription never serves
// a stale cache; resolvers reach them through For(ctx).
package dataloaders

import (
	"context"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vikstrous/dataloadgen"

	"github.com/inkgraph/inkgraph/models"
)

// wait is how long a loader gathers keys before it fetches: gqlgen starts sibling
// fields' goroutines within microseconds, so they join one batch. On an idle process
// any timer this short still sleeps about 1 ms (the netpoller waits in whole
// milliseconds), so a field that reads one key should not go through a loader.
const wait = 200 * time.Microsecond

// Sources are the batched reads the loaders are built on: store methods returning a
// map by ID, so a missing row can never shift another row into its place.
type Sources struct {
	UsersByIDs func(ctx context.Context, ids []string) (map[string]*models.User, error)
}

// Loaders are one operation's loaders.
type Loaders struct {
	users *dataloadgen.Loader[string, *models.User]
}

func newLoaders(s Sources) *Loaders {
	return &Loaders{
		users: dataloadgen.NewMappedLoader(s.UsersByIDs, dataloadgen.WithWait(wait)),
	}
}

type loadersKey struct{}

// For returns the operation's loaders.
func For(ctx context.Context) *Loaders {
	return ctx.Value(loadersKey{}).(*Loaders)
}

// User loads a user by ID; a missing one is NOT_FOUND.
func (l *Loaders) User(ctx context.Context, id string) (*models.User, error) {
	u, err := l.users.Load(ctx, id)
	if errors.Is(err, dataloadgen.ErrNotFound) {
		return nil, &models.Error{Code: models.CodeNotFound, Message: "user not found", Err: err}
	}
	return u, err
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
