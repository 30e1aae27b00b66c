package models

import (
	"time"

	"github.com/uptrace/bun"
)

// TeamRole is what a member may do in a team: an owner everything (ownership,
// and later billing and deletion), an admin manage members and invitations, a
// member use the team.
type TeamRole string

const (
	TeamRoleOwner  TeamRole = "OWNER"
	TeamRoleAdmin  TeamRole = "ADMIN"
	TeamRoleMember TeamRole = "MEMBER"
)

// Valid reports whether r is a known role.
func (r TeamRole) Valid() bool {
	return r == TeamRoleOwner || r == TeamRoleAdmin || r == TeamRoleMember
}

// Manages reports whether a member of role r manages members and invitations.
func (r TeamRole) Manages() bool { return r == TeamRoleOwner || r == TeamRoleAdmin }

// Team is a shared workspace. Role is the caller's role in it (its members and
// invitations are read apart, for the caller).
type Team struct {
	bun.BaseModel `bun:"table:teams"`

	ID        string    `bun:"id,pk"`
	Name      string    `bun:"name,notnull"`
	CreatedBy string    `bun:"created_by,nullzero"`
	CreatedAt time.Time `bun:"created_at,notnull"`

	Role TeamRole `bun:"-"`
}

// TeamMember is a user's membership of a team. Email is the member's, read with it.
type TeamMember struct {
	bun.BaseModel `bun:"table:team_members"`

	TeamID   string    `bun:"team_id,pk"`
	UserID   string    `bun:"user_id,pk"`
	Role     TeamRole  `bun:"role,notnull"`
	JoinedAt time.Time `bun:"joined_at,notnull"`

	Email string `bun:"email,scanonly"`
}

// TeamInvitation is an offer to join a team with a role. It stores only the SHA-256
// of its token; the token itself is returned once, to the inviter. A nil Email makes
// a link invitation, which any signed-in user may accept.
type TeamInvitation struct {
	bun.BaseModel `bun:"table:team_invitations"`

	ID         string     `bun:"id,pk"`
	TeamID     string     `bun:"team_id,notnull"`
	Email      *string    `bun:"email"`
	Role       TeamRole   `bun:"role,notnull"`
	TokenHash  string     `bun:"token_hash,notnull"`
	InvitedBy  string     `bun:"invited_by,nullzero"`
	ExpiresAt  time.Time  `bun:"expires_at,notnull"`
	AcceptedAt *time.Time `bun:"accepted_at"`
	AcceptedBy string     `bun:"accepted_by,nullzero"`
	RevokedAt  *time.Time `bun:"revoked_at"`
	CreatedAt  time.Time  `bun:"created_at,notnull"`
}

// InviteMemberPayload is a new invitation with its token. The token goes either to
// the inviter (shown this once) or, when the invitation was emailed, only to the
// invited address.
type InviteMemberPayload struct {
	Invitation *TeamInvitation
	// Token is what the invited user passes to acceptInvitation.
	Token string
	// Link is the frontend's page that accepts the invitation, with the token.
	Link string
	// Emailed: the token and link went by email to the invitation's address, and are
	// not shown to the inviter.
	Emailed bool
}

// ShownToken is the token as the inviter sees it: nil when it was emailed.
func (p *InviteMemberPayload) ShownToken() *string {
	if p.Emailed {
		return nil
	}
	return &p.Token
}

// ShownLink is the link as the inviter sees it: nil when it was emailed.
func (p *InviteMemberPayload) ShownLink() *string {
	if p.Emailed {
		return nil
	}
	return &p.Link
}

// InviteMemberInput is what inviteMember asks for.
type InviteMemberInput struct {
	TeamID string
	// Email is whom the invitation is for; nil with Link.
	Email *string
	Role  TeamRole
	// Link makes an invitation without email that any signed-in user may accept.
	Link bool
}

// FreeTeamSeats is how many seats a team has while billing is on and the team has no
// paid team subscription: its owner's.
const FreeTeamSeats = 1

// TeamPlan is what a team has from billing now.
type TeamPlan struct {
	// Tier is the tier the team's subscription grants now (free without one, after it
	// ended, or once a failed payment's grace ended); a member's tier inside the team.
	Tier Tier
	// Seats is how many seats are paid for: the subscription's quantity on a per-seat
	// tier, FreeTeamSeats otherwise. Counted only when Limited.
	Seats int
	// Limited is false when billing is off (no Stripe): seats are then not counted.
	Limited bool
	// Status is the status of the team's current subscription, NONE without one.
	Status SubscriptionStatus
	// CancelAtPeriodEnd: the subscription ends when its period does.
	CancelAtPeriodEnd bool
	// Note, when not empty, says why the team is on a lower tier than it paid for.
	Note string
}

// SeatCount is what a PAYMENT_REQUIRED for seats reports: the seats a team uses
// (members and pending invitations) and the seats it pays for.
type SeatCount struct {
	Used int
	Paid int
}

// TeamEventType is what happened in a team, as teamEvents tells its members.
type TeamEventType string

const (
	TeamMemberJoined  TeamEventType = "MEMBER_JOINED"
	TeamMemberLeft    TeamEventType = "MEMBER_LEFT"
	TeamMemberRemoved TeamEventType = "MEMBER_REMOVED"
	TeamRoleChanged   TeamEventType = "ROLE_CHANGED"
	TeamSeatsChanged  TeamEventType = "SEATS_CHANGED"
	TeamDeleted       TeamEventType = "TEAM_DELETED"
)

// TeamEvent is one thing that happened in a team, carried between instances on the
// events bus (TeamEventsTopic) as JSON.
type TeamEvent struct {
	Type   TeamEventType `json:"type"`
	TeamID string        `json:"teamId"`
	// UserID is the member concerned (joined, left, removed, whose role changed).
	UserID *string `json:"userId,omitempty"`
	// Role is the member's role after the event (joined, role changed).
	Role *TeamRole `json:"role,omitempty"`
	// Tier and Seats are the team's after SEATS_CHANGED.
	Tier  *Tier     `json:"tier,omitempty"`
	Seats *int      `json:"seats,omitempty"`
	At    time.Time `json:"at"`
}

// TeamEventsTopic is the events bus topic of a team's events: the team area and
// billing (seat changes) publish there.
func TeamEventsTopic(teamID string) string { return "team." + teamID }

// CheckTeamID refuses (BAD_USER_INPUT, field team) what cannot be a team's ID, as a
// request's X-Inkgraph-Team names it: IDs are UUIDs.
func CheckTeamID(id string) error {
	ok := len(id) > 0 && len(id) <= 64
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '-') {
			ok = false
			break
		}
	}
	if !ok {
		return &Error{Code: CodeBadUserInput, Field: "team", Message: "the team to act in (X-Inkgraph-Team) must be a team's ID, as teams lists them"}
	}
	return nil
}
