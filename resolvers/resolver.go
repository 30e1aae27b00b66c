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
	"github.com/inkgraph/inkgraph/internal/platform/oidc"
	"github.com/inkgraph/inkgraph/models"
)

// Accounts is what the resolvers need of the accounts area.
type Accounts interface {
	Register(ctx context.Context, in auth.Credentials) (*models.AuthPayload, error)
	Login(ctx context.Context, in auth.Credentials) (*models.AuthPayload, error)
	Refresh(ctx context.Context, refreshToken, userAgent string) (*models.AuthPayload, error)
	Logout(ctx context.Context, refreshToken string) (*models.LogoutPayload, error)
	User(ctx context.Context, caller models.Caller) (*models.User, error)
	AccountEvents(ctx context.Context, caller models.Caller) (<-chan *models.AccountEvent, error)
	CreateAPIKey(ctx context.Context, caller models.Caller, in auth.APIKeyInput) (*auth.NewAPIKey, error)
	APIKeys(ctx context.Context, caller models.Caller) ([]*models.APIKey, error)
	RevokeAPIKey(ctx context.Context, caller models.Caller, id string) (*models.APIKey, error)
	Sessions(ctx context.Context, caller models.Caller) ([]*models.Session, error)
	RevokeSession(ctx context.Context, caller models.Caller, id string) (*models.Session, error)
	RevokeOtherSessions(ctx context.Context, caller models.Caller) (int, error)
	IdentityProviders() []oidc.Provider
	SignInWithProvider(ctx context.Context, idToken, userAgent string) (*models.AuthPayload, error)
}

// Resolver holds the services the resolvers call.
type Resolver struct {
	Accounts Accounts
	Wizard   Wizard // the onboarding area
	// Billing is the billing area (without Stripe it answers what needs Stripe
	// BILLING_NOT_CONFIGURED itself).
	Billing Billing
	// Audit is the audit area: the user's audit log.
	Audit Audit
	// Backups is the backup area.
	Backups Backups
	// Chat is the chat area: agents, streamed runs and LLM usage.
	Chat Chat
	// Playbooks is the playbook area: server-side templates and plans.
	Playbooks Playbooks
	// Conversations is the conversation area: chat settings and stored conversations.
	Conversations Conversations
	// Teams is the team area: teams, members, roles and invitations.
	Teams Teams
	// Knowledge is the knowledge area: documents, their ingestion and search.
	Knowledge Knowledge
	Logger    *slog.Logger
}

// NewSchema returns the executable schema over r, with list fields costed by how many
// items they can return.
func NewSchema(r *Resolver) graphql.ExecutableSchema {
	cfg := graph.Config{Resolvers: r}
	plans := len(models.Tiers())
	cfg.Complexity.Query.Plans = func(child int) int { return plans * (1 + child) }
	cfg.Complexity.Query.Backups = func(child int, first *int, _ *string) int {
		n := 20
		if first != nil && *first > 0 {
			n = *first
		}
		return n * (1 + child)
	}
	cfg.Complexity.Query.Conversations = func(child int, first *int, _ *string) int { return pageCost(first, 20, child) }
	cfg.Complexity.Conversation.Messages = func(child int, first *int, _ *string) int { return pageCost(first, 50, child) }
	cfg.Complexity.Query.TeamAuditLog = func(child int, _ string, first *int, _ *string) int { return pageCost(first, 20, child) }
	cfg.Complexity.Query.Documents = func(child int, first *int, _, _ *string) int { return pageCost(first, 20, child) }
	cfg.Complexity.Query.SearchDocuments = func(child int, _ string, first *int, _ []string, _ *string) int {
		return pageCost(first, 5, child)
	}
	return costedSchema{graph.NewExecutableSchema(cfg)}
}

// pageCost is the cost of a page of first items (def when not given), each of child.
func pageCost(first *int, def, child int) int {
	if first != nil && *first > 0 {
		def = *first
	}
	return def * (1 + child)
}

// costedFields are the fields NewSchema gives a cost function, "Type.field".
var costedFields = map[string]bool{
	"Query.plans": true, "Query.backups": true, "Query.conversations": true, "Conversation.messages": true,
	"Query.teamAuditLog": true, "Query.documents": true, "Query.searchDocuments": true,
}

// costedSchema asks the generated schema for the cost of costedFields only. The
// complexity limit asks for every field of every request, and the generated
// Complexity builds an execution context per call before finding that a field has
// no cost function (the summary's 120 fields: 240 allocations a request); for those
// it answers what gqlgen does itself, 1 plus the field's children.
type costedSchema struct{ graphql.ExecutableSchema }

func (s costedSchema) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	if !costedFields[typeName+"."+field] {
		return 0, false
	}
	return s.ExecutableSchema.Complexity(ctx, typeName, field, childComplexity, args)
}

func (r *Resolver) Query() graph.QueryResolver               { return queryResolver{r} }
func (r *Resolver) Mutation() graph.MutationResolver         { return mutationResolver{r} }
func (r *Resolver) Subscription() graph.SubscriptionResolver { return subscriptionResolver{r} }
func (r *Resolver) User() graph.UserResolver                 { return userResolver{r} }
func (r *Resolver) Onboarding() graph.OnboardingResolver     { return onboardingResolver{r} }

type queryResolver struct{ *Resolver }
type mutationResolver struct{ *Resolver }
type subscriptionResolver struct{ *Resolver }
type userResolver struct{ *Resolver }

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
