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
	AuditLog(ctx context.Context, userID string, first int, after string) (*models.AuditConnection, error)
	CreateCheckoutSession(ctx context.Context, userID string, tier models.Tier, seats int) (*models.CheckoutSession, error)
	CreateBillingPortalSession(ctx context.Context, userID string) (*models.PortalSession, error)
	CancelSubscription(ctx context.Context, userID string) (*models.BillingSubscription, error)
	ResumeSubscription(ctx context.Context, userID string) (*models.BillingSubscription, error)
	BillingEvents(ctx context.Context, userID string) (<-chan *models.BillingEvent, error)
}

// billingFor returns the caller's ID and the billing area; a server built without
// one answers BILLING_NOT_CONFIGURED rather than failing.
func (r *Resolver) billingFor(ctx context.Context) (string, Billing, error) {
	id, err := callerID(ctx)
	if err != nil {
		return "", nil, err
	}
	if r.Billing == nil {
		return "", nil, models.Errorf(models.CodeBillingNotConfigured, "billing is not available on this server")
	}
	return id, r.Billing, nil
}

// ownUser checks that u is the caller: a user object is only ever the caller's own
// (me, auth payloads), and billing is private to it.
func (r *Resolver) ownUser(ctx context.Context, u *models.User) (string, Billing, error) {
	id, b, err := r.billingFor(ctx)
	if err != nil {
		return "", nil, err
	}
	if id != u.ID {
		return "", nil, models.Errorf(models.CodeForbidden, "billing is visible to its own user only")
	}
	return id, b, nil
}

func (r *userResolver) Subscription(ctx context.Context, u *models.User) (*models.BillingSubscription, error) {
	id, b, err := r.ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	return b.Subscription(ctx, id)
}

func (r *userResolver) Entitlements(ctx context.Context, u *models.User) ([]*models.Entitlement, error) {
	id, b, err := r.ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	return b.Entitlements(ctx, id)
}

func (r *userResolver) Allowed(ctx context.Context, u *models.User, feature models.FeatureKey, amount *int64) (*models.Decision, error) {
	id, b, err := r.ownUser(ctx, u)
	if err != nil {
		return nil, err
	}
	f := models.Feature{Key: feature}
	if amount != nil {
		f.Amount = *amount
	}
	d, err := b.Allowed(ctx, id, f)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

func (r *userResolver) AuditLog(ctx context.Context, u *models.User, first *int, after *string) (*models.AuditConnection, error) {
	id, b, err := r.ownUser(ctx, u)
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
	return b.AuditLog(ctx, id, n, cursor)
}

func (r *mutationResolver) CreateCheckoutSession(ctx context.Context, tier models.Tier, seats *int) (*models.CheckoutSession, error) {
	id, b, err := r.billingFor(ctx)
	if err != nil {
		return nil, err
	}
	n := 1
	if seats != nil {
		n = *seats
	}
	return b.CreateCheckoutSession(ctx, id, tier, n)
}

func (r *mutationResolver) CreateBillingPortalSession(ctx context.Context) (*models.PortalSession, error) {
	id, b, err := r.billingFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.CreateBillingPortalSession(ctx, id)
}

func (r *mutationResolver) CancelSubscription(ctx context.Context) (*models.BillingSubscription, error) {
	id, b, err := r.billingFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.CancelSubscription(ctx, id)
}

func (r *mutationResolver) ResumeSubscription(ctx context.Context) (*models.BillingSubscription, error) {
	id, b, err := r.billingFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.ResumeSubscription(ctx, id)
}

func (r *subscriptionResolver) BillingEvents(ctx context.Context) (<-chan *models.BillingEvent, error) {
	id, b, err := r.billingFor(ctx)
	if err != nil {
		return nil, err
	}
	return b.BillingEvents(ctx, id)
}
