package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/graph/model"
	"github.com/inkgraph/inkgraph/models"
)

func (r queryResolver) IdentityProviders(_ context.Context) ([]*model.IdentityProvider, error) {
	providers := r.Accounts.IdentityProviders()
	out := make([]*model.IdentityProvider, len(providers))
	for i, p := range providers {
		out[i] = &model.IdentityProvider{Issuer: p.Issuer, Audience: p.Audience}
	}
	return out, nil
}

func (r mutationResolver) SignInWithProvider(ctx context.Context, in model.SignInWithProviderInput) (*models.AuthPayload, error) {
	return r.Accounts.SignInWithProvider(ctx, in.IDToken, userAgent(ctx))
}
