package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/graph/model"
	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/models"
)

func (r queryResolver) Me(ctx context.Context) (*models.User, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	// One key gains nothing from a loader, whose timer costs about 1 ms on an idle
	// process (BenchmarkMeQuery): read directly.
	return r.Accounts.User(ctx, caller)
}

func (r queryResolver) Plans(ctx context.Context) ([]*models.Features, error) {
	tiers := models.Tiers()
	plans := make([]*models.Features, len(tiers))
	for i, t := range tiers {
		f := models.FeaturesOf(t)
		plans[i] = &f
	}
	return plans, nil
}

func (r mutationResolver) Register(ctx context.Context, in model.RegisterInput) (*models.AuthPayload, error) {
	return r.Accounts.Register(ctx, auth.Credentials{Email: in.Email, Password: in.Password, UserAgent: userAgent(ctx)})
}

func (r mutationResolver) Login(ctx context.Context, in model.LoginInput) (*models.AuthPayload, error) {
	return r.Accounts.Login(ctx, auth.Credentials{Email: in.Email, Password: in.Password, UserAgent: userAgent(ctx)})
}

func (r mutationResolver) RefreshToken(ctx context.Context, refreshToken *string) (*models.AuthPayload, error) {
	token, err := refreshTokenOf(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return r.Accounts.Refresh(ctx, token, userAgent(ctx))
}

func (r mutationResolver) Logout(ctx context.Context, refreshToken *string) (*models.LogoutPayload, error) {
	token, err := refreshTokenOf(ctx, refreshToken)
	if err != nil {
		return nil, err
	}
	return r.Accounts.Logout(ctx, token)
}

// refreshTokenOf is the refresh token an operation was given, or, without one, the
// session cookie's (internal/api/cookies.go puts it in the context).
func refreshTokenOf(ctx context.Context, arg *string) (string, error) {
	if arg != nil {
		return *arg, nil
	}
	return models.RefreshCookieFrom(ctx)
}

func (r subscriptionResolver) AccountEvents(ctx context.Context) (<-chan *models.AccountEvent, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Accounts.AccountEvents(ctx, caller)
}
