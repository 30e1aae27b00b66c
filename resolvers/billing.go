package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/models"
)

// Billing is what the resolvers need of the billing area.
type Billing interface {
	Subscription(ctx context.Context, userID string) (*models.BillingSubscription, error)
	Entitlements(ctx context.Context, userID string) ([]*models.Entitlement, error)
	Allowed(ctx context.Context, userID string, f models.Feature) (models.Decision, error)
	CreateCheckoutSession(ctx context.Context, userID string, tier models.Tier, seats int) (*models.CheckoutSession, error)
	CreateBillingPortalSession(ctx context.Context, userID string) (*models.PortalSession, error)
	CancelSubscription(ctx context.Context, userID string) (*models.BillingSubscription, error)
	ResumeSubscription(ctx context.Context, userID string) (*models.BillingSubscription, error)
	BillingEvents(ctx context.Context, userID string) (<-chan *models.BillingEvent, error)
}

// Audit is what the resolvers need of the audit area.
type Audit interface {
	AuditLog(ctx context.Context, userID string, first int, after string) (*models.AuditConnection, error)
}

// ownUser returns the caller when u is the caller: a user object is only ever the
// caller's own (me, auth payloads), and billing and the audit log are private to it.
func ownUser(ctx context.Context, u *models.User) (models.Caller, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return caller, err
	}
	if caller.UserID != u.ID {
		return caller, models.Errorf(models.CodeForbidden, "billing is visible to its own user only")
	}
	return caller, nil
}

func (r userResolver) Subscription(ctx context.Context, u *models.User) (*models.BillingSubscription, error) {
	caller, err := ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	return r.Billing.Subscription(ctx, caller.UserID)
}

func (r userResolver) Entitlements(ctx context.Context, u *models.User) ([]*models.Entitlement, error) {
	caller, err := ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	return r.Billing.Entitlements(ctx, caller.UserID)
}

func (r userResolver) Allowed(ctx context.Context, u *models.User, feature models.FeatureKey, amount *int64) (*models.Decision, error) {
	caller, err := ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	f := models.Feature{Key: feature}
	if amount != nil {
		f.Amount = *amount
	}
	d, err := r.Billing.Allowed(ctx, caller.UserID, f)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (r userResolver) AuditLog(ctx context.Context, u *models.User, first *int, after *string) (*models.AuditConnection, error) {
	caller, err := ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	n, cursor := 0, ""
	if first != nil {
		n = *first
		if n == 0 {
			return nil, models.InvalidInput("first", "first must be between 1 and 100")
		}
	}
	if after != nil {
		cursor = *after
	}
	return r.Audit.AuditLog(ctx, caller.UserID, n, cursor)
}

func (r mutationResolver) CreateCheckoutSession(ctx context.Context, tier models.Tier, seats *int) (*models.CheckoutSession, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n := 1
	if seats != nil {
		n = *seats
	}
	return r.Billing.CreateCheckoutSession(ctx, caller.UserID, tier, n)
}

func (r mutationResolver) CreateBillingPortalSession(ctx context.Context) (*models.PortalSession, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Billing.CreateBillingPortalSession(ctx, caller.UserID)
}

func (r mutationResolver) CancelSubscription(ctx context.Context) (*models.BillingSubscription, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Billing.CancelSubscription(ctx, caller.UserID)
}

func (r mutationResolver) ResumeSubscription(ctx context.Context) (*models.BillingSubscription, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Billing.ResumeSubscription(ctx, caller.UserID)
}

func (r subscriptionResolver) BillingEvents(ctx context.Context) (<-chan *models.BillingEvent, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Billing.BillingEvents(ctx, caller.UserID)
}
