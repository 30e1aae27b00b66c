package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/graph/model"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/models"
)

func (r queryResolver) APIKeys(ctx context.Context) ([]*models.APIKey, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Accounts.APIKeys(ctx, caller)
}

func (r queryResolver) Sessions(ctx context.Context) ([]*models.Session, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Accounts.Sessions(ctx, caller)
}

func (r mutationResolver) CreateAPIKey(ctx context.Context, input auth.APIKeyInput) (*auth.NewAPIKey, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Accounts.CreateAPIKey(ctx, caller, input)
}

func (r mutationResolver) RevokeAPIKey(ctx context.Context, id string) (*models.APIKey, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Accounts.RevokeAPIKey(ctx, caller, id)
}

func (r mutationResolver) RevokeSession(ctx context.Context, id string) (*models.Session, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Accounts.RevokeSession(ctx, caller, id)
}

func (r mutationResolver) RevokeOtherSessions(ctx context.Context) (*model.RevokeOtherSessionsPayload, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n, err := r.Accounts.RevokeOtherSessions(ctx, caller)
	if err != nil {
		return nil, err
	}
	return &model.RevokeOtherSessionsPayload{Revoked: n}, nil
}
