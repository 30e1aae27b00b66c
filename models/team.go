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

// InviteMemberPayload is a new invitation with its token, which is shown this once.
type InviteMemberPayload struct {
	Invitation *TeamInvitation
	// Token is what the invited user passes to acceptInvitation.
	Token string
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
