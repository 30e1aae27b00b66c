package resolvers

import (
	"context"

	"github.com/inkgraph/inkgraph/dataloaders"
	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/models"
)

// Teams is what the resolvers need of the team area.
type Teams interface {
	CreateTeam(ctx context.Context, userID, name string) (*models.Team, error)
	Teams(ctx context.Context, userID string) ([]*models.Team, error)
	Team(ctx context.Context, userID, id string) (*models.Team, error)
	Invitations(ctx context.Context, userID, teamID string) ([]*models.TeamInvitation, error)
	InviteMember(ctx context.Context, userID string, in models.InviteMemberInput) (*models.InviteMemberPayload, error)
	AcceptInvitation(ctx context.Context, userID, token string) (*models.Team, error)
	RevokeInvitation(ctx context.Context, userID, id string) (*models.TeamInvitation, error)
	ChangeRole(ctx context.Context, userID, teamID, memberID string, role models.TeamRole) (*models.TeamMember, error)
	RemoveMember(ctx context.Context, userID, teamID, memberID string) (*models.TeamMember, error)
	LeaveTeam(ctx context.Context, userID, teamID string) error
	TransferOwnership(ctx context.Context, userID, teamID, memberID string) (*models.Team, error)
	TeamAuditLog(ctx context.Context, userID, teamID string, first int, after string) (*models.AuditConnection, error)
	Plan(ctx context.Context, userID, teamID string) (models.TeamPlan, error)
	SeatsUsed(ctx context.Context, userID, teamID string) (int, error)
	Entitlements(ctx context.Context, userID, teamID string) ([]*models.Entitlement, error)
	Checkout(ctx context.Context, userID, teamID string, seats int) (*models.CheckoutSession, error)
	BillingPortal(ctx context.Context, userID, teamID string) (*models.PortalSession, error)
	DeleteTeam(ctx context.Context, userID, id string) error
	TeamEvents(ctx context.Context, userID, teamID string) (<-chan *models.TeamEvent, error)
}

func (r *Resolver) Team() graph.TeamResolver { return teamResolver{r} }

type teamResolver struct{ *Resolver }

var _ graph.TeamResolver = &teamResolver{}

// Members reads through the operation's loader: the members of every team an
// operation shows are one read.
func (r teamResolver) Members(ctx context.Context, obj *models.Team) ([]*models.TeamMember, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return dataloaders.For(ctx).TeamMembers(ctx, caller.UserID, obj.ID)
}

func (r teamResolver) Invitations(ctx context.Context, obj *models.Team) ([]*models.TeamInvitation, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.Invitations(ctx, caller.UserID, obj.ID)
}

func (r teamResolver) Tier(ctx context.Context, obj *models.Team) (models.Tier, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return "", err
	}
	p, err := r.Teams.Plan(ctx, caller.UserID, obj.ID)
	return p.Tier, err
}

func (r teamResolver) SeatsUsed(ctx context.Context, obj *models.Team) (int, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return 0, err
	}
	return r.Teams.SeatsUsed(ctx, caller.UserID, obj.ID)
}

func (r teamResolver) SeatsPaid(ctx context.Context, obj *models.Team) (*int, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	p, err := r.Teams.Plan(ctx, caller.UserID, obj.ID)
	if err != nil || !p.Limited {
		return nil, err
	}
	return &p.Seats, nil
}

func (r teamResolver) Entitlements(ctx context.Context, obj *models.Team) ([]*models.Entitlement, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.Entitlements(ctx, caller.UserID, obj.ID)
}

func (r mutationResolver) TeamCheckout(ctx context.Context, teamID string, seats int) (*models.CheckoutSession, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.Checkout(ctx, caller.UserID, teamID, seats)
}

func (r mutationResolver) TeamBillingPortal(ctx context.Context, teamID string) (*models.PortalSession, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.BillingPortal(ctx, caller.UserID, teamID)
}

func (r queryResolver) Teams(ctx context.Context) ([]*models.Team, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	teams, err := r.Resolver.Teams.Teams(ctx, caller.UserID)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(teams))
	for i, t := range teams {
		ids[i] = t.ID
	}
	dataloaders.For(ctx).ListedTeams(caller.UserID, ids)
	return teams, nil
}

func (r queryResolver) Team(ctx context.Context, id string) (*models.Team, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Teams.Team(ctx, caller.UserID, id)
}

func (r mutationResolver) CreateTeam(ctx context.Context, name string) (*models.Team, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.CreateTeam(ctx, caller.UserID, name)
}

func (r mutationResolver) InviteMember(ctx context.Context, teamID string, email *string, role models.TeamRole, link *bool) (*models.InviteMemberPayload, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.InviteMember(ctx, caller.UserID, models.InviteMemberInput{TeamID: teamID, Email: email, Role: role, Link: link != nil && *link})
}

func (r mutationResolver) AcceptInvitation(ctx context.Context, token string) (*models.Team, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.AcceptInvitation(ctx, caller.UserID, token)
}

func (r mutationResolver) RevokeInvitation(ctx context.Context, id string) (*models.TeamInvitation, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.RevokeInvitation(ctx, caller.UserID, id)
}

func (r mutationResolver) ChangeRole(ctx context.Context, teamID, userID string, role models.TeamRole) (*models.TeamMember, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.ChangeRole(ctx, caller.UserID, teamID, userID, role)
}

func (r mutationResolver) RemoveMember(ctx context.Context, teamID, userID string) (*models.TeamMember, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.RemoveMember(ctx, caller.UserID, teamID, userID)
}

func (r mutationResolver) LeaveTeam(ctx context.Context, teamID string) (bool, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Teams.LeaveTeam(ctx, caller.UserID, teamID); err != nil {
		return false, err
	}
	return true, nil
}

func (r mutationResolver) TransferOwnership(ctx context.Context, teamID, userID string) (*models.Team, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.TransferOwnership(ctx, caller.UserID, teamID, userID)
}

func (r queryResolver) TeamAuditLog(ctx context.Context, teamID string, first *int, after *string) (*models.AuditConnection, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	n, cursor, err := page(first, after)
	if err != nil {
		return nil, err
	}
	return r.Resolver.Teams.TeamAuditLog(ctx, caller.UserID, teamID, n, cursor)
}

func (r mutationResolver) DeleteTeam(ctx context.Context, id string) (bool, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return false, err
	}
	if err := r.Teams.DeleteTeam(ctx, caller.UserID, id); err != nil {
		return false, err
	}
	return true, nil
}

func (r subscriptionResolver) TeamEvents(ctx context.Context, teamID string) (<-chan *models.TeamEvent, error) {
	caller, err := models.CallerFrom(ctx)
	if err != nil {
		return nil, err
	}
	return r.Teams.TeamEvents(ctx, caller.UserID, teamID)
}
