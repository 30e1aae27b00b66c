// Package resolvers adapts the GraphQL schema to the services: each resolver takes the
// caller from the context, makes one service call and returns its result. Business
// rules live in internal/<area>; what a client sees of an error is decided in errors.go.
package resolvers

import (
	"context"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"

	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/models"
)

// Accounts is what the resolvers need of the accounts area.
type Accounts interface {
	Register(ctx context.Context, in auth.Credentials) (*models.AuthPayload, error)
	Login(ctx context.Context, in auth.Credentials) (*models.AuthPayload, error)
	Refresh(ctx context.Context, refreshToken, userAgent string) (*models.AuthPayload, error)
	Logout(ctx context.Context, refreshToken string) (*models.LogoutPayload, error)
	User(ctx context.Context, caller auth.Caller) (*models.User, error)
	AccountEvents(ctx context.Context, caller auth.Caller) (<-chan *models.AccountEvent, error)
}

// Resolver holds the services the resolvers call.
type Resolver struct {
	Accounts Accounts
	Logger   *slog.Logger
}

// NewSchema returns the executable schema over r, with list fields costed by how many
// items they can return.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := graph.Config{Resolvers: r}
	plans := len(models.Tiers())
	cfg.Complexity.Query.Plans = func(child int) int { return plans * (1 + child) }
	return graph.NewExecutableSchema(cfg)
}

func (r *Resolver) Query() graph.QueryResolver               { return &queryResolver{r} }
func (r *Resolver) Mutation() graph.MutationResolver         { return &mutationResolver{r} }
func (r *Resolver) Subscription() graph.SubscriptionResolver { return &subscriptionResolver{r} }

type queryResolver struct{ *Resolver }
type mutationResolver struct{ *Resolver }
type subscriptionResolver struct{ *Resolver }

var (
	_ graph.QueryResolver        = &queryResolver{}
	_ graph.MutationResolver     = &mutationResolver{}
	_ graph.SubscriptionResolver = &subscriptionResolver{}
)

// userAgent is the client's User-Agent header, remembered with a new session.
func userAgent(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	return graphql.GetOperationContext(ctx).Headers.Get("User-Agent")
}
