// Package team owns teams: shared workspaces with members, their roles (owner, admin,
// member) and invitations to join. Every method takes the caller's user ID; a team the
// caller is not a member of is NOT_FOUND, whoever else it has. Changes to a team's
// members run under the team's lock (lockTeam), so racing demotions, removals and
// leaves cannot leave a team without an owner. Team events are recorded in the acting
// user's audit log through Auditor, in the transaction of the change.
//
// Roles: an owner may do everything; an admin manages members and admins (invite,
// revoke, change roles, remove) but neither owners nor the owner role; a member uses
// the team and may leave it. The last owner can neither leave nor be demoted or
// removed: ownership is transferred first.
package team

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/mail"
	"github.com/inkgraph/inkgraph/models"
)

const (
	// MaxNameLength is the longest team name, in characters.
	MaxNameLength = 100
	// InvitationTTL is how long an invitation can be accepted.
	InvitationTTL = 7 * 24 * time.Hour
	// tokenPrefix starts every invitation token, so that one is recognisable.
	tokenPrefix = "inv_"
	maxEmail    = 254
)

// Auditor records team events in the audit log, in the transaction of the change,
// and reads a team's events back.
type Auditor interface {
	RecordIn(ctx context.Context, db bun.IDB, e models.AuditEntry) error
	TeamAuditLog(ctx context.Context, teamID string, first int, after string) (*models.AuditConnection, error)
}

// Billing is what the team area needs of billing (internal/billing satisfies it): the
// team's plan (tier, paid seats), its entitlements, and checkout and the portal of
// the team's own subscription. Who may use those is this area's rule.
type Billing interface {
	TeamPlan(ctx context.Context, teamID string) (models.TeamPlan, error)
	TeamEntitlements(ctx context.Context, teamID string) ([]*models.Entitlement, error)
	CreateTeamCheckoutSession(ctx context.Context, userID, teamID string, seats int) (*models.CheckoutSession, error)
	CreateTeamBillingPortalSession(ctx context.Context, userID, teamID string) (*models.PortalSession, error)
}

// Spaces keeps each team's shared space (the accounts area satisfies it): created and
// deleted with the team, in the team's transaction.
type Spaces interface {
	CreateTeamSpace(ctx context.Context, db bun.IDB, teamID string) error
	DeleteTeamSpace(ctx context.Context, db bun.IDB, teamID string) error
}

// Events carries team events between server instances; events.Bus satisfies it.
type Events interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	Subscribe(ctx context.Context, topic string) (<-chan []byte, error)
}

// Mailer sends an email; *mail.Mailer satisfies it.
type Mailer interface {
	Send(ctx context.Context, msg mail.Message) error
}

// Deps are what the service is built from.
type Deps struct {
	DB    bun.IDB
	Audit Auditor
	// Spaces keeps the teams' shared spaces.
	Spaces Spaces
	// Billing is the team's plan and payments; nil means none (billing off: seats
	// are not counted, every team is on the free tier, checkout answers
	// BILLING_NOT_CONFIGURED).
	Billing Billing
	// Events carries team events to teamEvents subscribers on every instance; nil
	// publishes nothing (and TeamEvents answers INTERNAL).
	Events Events
	// Logger reports what cannot be returned (a failed publish); discarded when nil.
	Logger *slog.Logger
	// Mailer sends invitations by email; nil sends none, and the token and link go
	// back to the inviter.
	Mailer Mailer
	// PublicURL is where the frontend lives: an invitation's link is
	// PublicURL/invitations/accept?token=….
	PublicURL string
	// TeamsPerOwner is how many teams one user may create, counted while they exist
	// whoever owns them since; 0 is no limit. Each team's shared space has the
	// allowances of the team's tier (a free team: the free tier's tokens and
	// documents), so the cap bounds what one account can draw from free teams;
	// counting by creator, not owner, means handing teams over does not reset it.
	TeamsPerOwner int
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ClientIP returns the client's address of a request's context for audit entries;
	// nil records none.
	ClientIP func(ctx context.Context) string
}

// Service implements the team area.
type Service struct {
	d Deps
}

// NewService returns the team service.
func NewService(d Deps) (*Service, error) {
	if d.DB == nil || d.Audit == nil || d.Spaces == nil {
		return nil, errors.New("team: DB, Audit and Spaces are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClientIP == nil {
		d.ClientIP = func(context.Context) string { return "" }
	}
	if d.Billing == nil {
		d.Billing = noBilling{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{d: d}, nil
}

// now is the clock in UTC, to the microsecond both dialects store unchanged.
func (s *Service) now() time.Time { return s.d.Now().UTC().Truncate(time.Microsecond) }

// CreateTeam creates a team named name (trimmed, 1 to MaxNameLength characters) whose
// owner is the caller.
func (s *Service) CreateTeam(ctx context.Context, userID, name string) (*models.Team, error) {
	name, err := checkName(name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &models.Team{ID: uuid.Must(uuid.NewV7()).String(), Name: name, CreatedBy: userID, CreatedAt: now, Role: models.TeamRoleOwner}
	err = database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		// Counted under the user's lock: two createTeam at once do not both pass.
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		created, err := countCreatedTeams(ctx, tx, userID)
		if err != nil {
			return err
		}
		if limit := s.d.TeamsPerOwner; limit > 0 && created >= limit {
			return &models.Error{Code: models.CodeQuotaExceeded, Field: "name", Message: fmt.Sprintf(
				"you created %d teams that still exist, the most one user may (handing one over does not count it out): one of them has to be deleted, by its owners, first", created),
				Quota: &models.Quota{Used: int64(created + 1), Limit: int64(limit)}}
		}
		if err := insertTeam(ctx, tx, t); err != nil {
			return err
		}
		if err := s.d.Spaces.CreateTeamSpace(ctx, tx, t.ID); err != nil {
			return err
		}
		return insertMember(ctx, tx, &models.TeamMember{TeamID: t.ID, UserID: userID, Role: models.TeamRoleOwner, JoinedAt: now})
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// Teams returns the caller's teams with the caller's role in each, oldest first.
func (s *Service) Teams(ctx context.Context, userID string) ([]*models.Team, error) {
	return findTeamsOf(ctx, s.d.DB, userID)
}

// Team returns the team id with the caller's role; NOT_FOUND (field id) unless the
// caller is a member.
func (s *Service) Team(ctx context.Context, userID, id string) (*models.Team, error) {
	return s.teamOf(ctx, s.d.DB, userID, id, "id")
}

// Role returns the caller's role in the team, for a request acting in it: NOT_FOUND
// (field team) when the team does not exist or the caller is not a member.
func (s *Service) Role(ctx context.Context, userID, teamID string) (models.TeamRole, error) {
	m, err := s.member(ctx, s.d.DB, teamID, userID, "team")
	if err != nil {
		return "", err
	}
	return m.Role, nil
}

// Members returns the team's members, for a member of it.
func (s *Service) Members(ctx context.Context, userID, teamID string) ([]*models.TeamMember, error) {
	if _, err := s.member(ctx, s.d.DB, teamID, userID, "teamId"); err != nil {
		return nil, err
	}
	return findMembers(ctx, s.d.DB, teamID)
}

// MembersOfTeams returns, by team, the members of those of teamIDs the caller is a
// member of, in one statement: a team the caller is not in is absent (the GraphQL
// loader answers NOT_FOUND for it).
func (s *Service) MembersOfTeams(ctx context.Context, userID string, teamIDs []string) (map[string][]*models.TeamMember, error) {
	return findMembersOfTeams(ctx, s.d.DB, userID, teamIDs)
}

// Invitations returns the team's pending invitations, newest first, for an owner or
// admin of it; a member sees none (an empty list).
func (s *Service) Invitations(ctx context.Context, userID, teamID string) ([]*models.TeamInvitation, error) {
	m, err := s.member(ctx, s.d.DB, teamID, userID, "teamId")
	if err != nil {
		return nil, err
	}
	if !m.Role.Manages() {
		return []*models.TeamInvitation{}, nil
	}
	return findPendingInvitations(ctx, s.d.DB, teamID, s.now())
}

// InviteMember creates a single-use invitation to the team with a role, which expires
// after InvitationTTL, and returns it with its token (only its SHA-256 is stored).
// Owners and admins invite; only owners invite owners. An invitation names an email,
// which the accepting user's must match, unless it is a link invitation (in.Link, no
// email), which any signed-in user may accept.
//
// With a Mailer, an invitation naming an email is sent there (with its link) and its
// token is not shown to the inviter. The invitation is committed first and the email
// sent after, outside the team's lock; when the send fails, the invitation is deleted
// again and the call answers UPSTREAM_UNAVAILABLE (field email): nothing was made, and
// its creation is recorded in the audit log only once the email went.
func (s *Service) InviteMember(ctx context.Context, userID string, in models.InviteMemberInput) (*models.InviteMemberPayload, error) {
	if !in.Role.Valid() {
		return nil, models.InvalidInput("role", "role must be OWNER, ADMIN or MEMBER")
	}
	var email *string
	switch {
	case in.Link && in.Email != nil:
		return nil, models.InvalidInput("email", "a link invitation has no email: leave email out, or link false")
	case !in.Link:
		e, err := checkEmail(in.Email)
		if err != nil {
			return nil, err
		}
		email = &e
	}
	token, hash, err := newToken()
	if err != nil {
		return nil, err
	}
	// The plan is read before the team's lock (on SQLite the transaction holds the
	// one connection); it changes only with Stripe's webhooks.
	plan, err := s.d.Billing.TeamPlan(ctx, in.TeamID)
	if err != nil {
		return nil, err
	}
	mailing := email != nil && s.d.Mailer != nil
	now := s.now()
	inv := &models.TeamInvitation{
		ID: uuid.Must(uuid.NewV7()).String(), TeamID: in.TeamID, Email: email, Role: in.Role, TokenHash: hash,
		InvitedBy: userID, ExpiresAt: now.Add(InvitationTTL), CreatedAt: now,
	}
	detail := models.AuditDetail{"team": in.TeamID, "invitation": inv.ID, "role": string(in.Role)}
	if email != nil {
		detail["email"] = *email
	} else {
		detail["link"] = "true"
	}
	var t *models.Team
	var inviter string
	err = database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		caller, err := s.lockAsMember(ctx, tx, in.TeamID, userID, "teamId")
		if err != nil {
			return err
		}
		if !caller.Role.Manages() {
			return forbidden("teamId", "only the team's owners and admins invite members")
		}
		if in.Role == models.TeamRoleOwner && caller.Role != models.TeamRoleOwner {
			return forbidden("role", "only owners invite owners")
		}
		if email != nil {
			member, err := memberByEmail(ctx, tx, in.TeamID, *email)
			if err != nil {
				return err
			}
			if member {
				return &models.Error{Code: models.CodeConflict, Field: "email", Message: "a user with this email is already a member"}
			}
		}
		if err := s.seatFree(ctx, tx, in.TeamID, plan, now); err != nil {
			return err
		}
		if err := insertInvitation(ctx, tx, inv); err != nil {
			return err
		}
		if mailing {
			inviter = caller.Email
			t, err = findTeam(ctx, tx, in.TeamID)
			return err
		}
		return s.audit(ctx, tx, userID, models.AuditTeamInvitationCreated, detail)
	})
	if err != nil {
		return nil, err
	}
	p := &models.InviteMemberPayload{Invitation: inv, Token: token, Link: s.d.PublicURL + "/invitations/accept?token=" + url.QueryEscape(token)}
	if !mailing {
		return p, nil
	}
	if err := s.d.Mailer.Send(ctx, invitationEmail(t, inv, inviter, p.Link)); err != nil {
		// Not left half-made: the invitation goes again (a context that ended still
		// deletes it), unless it was accepted meanwhile: then the email did arrive.
		deleted, delErr := deletePendingInvitation(context.WithoutCancel(ctx), s.d.DB, inv.ID)
		if delErr != nil || deleted {
			return nil, &models.Error{Code: models.CodeUpstreamUnavailable, Field: "email", Err: errors.Join(err, delErr),
				Message: "the invitation email could not be sent, so no invitation was made: try again later, or invite with a link"}
		}
		s.d.Logger.WarnContext(ctx, "an invitation email reported failing was accepted: it was delivered", "error", err, "invitation_id", inv.ID)
	}
	detail["emailed"] = "true"
	if err := s.audit(ctx, s.d.DB, userID, models.AuditTeamInvitationCreated, detail); err != nil {
		return nil, err
	}
	p.Emailed = true
	return p, nil
}

// invitationEmail is the email of an invitation: who invites, to which team and
// role, the link, and when it expires. A name holds no control character (checkName);
// one of a team named before that check is written as a space.
func invitationEmail(t *models.Team, inv *models.TeamInvitation, inviter, link string) mail.Message {
	name := strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, t.Name)
	return mail.Message{
		To:      *inv.Email,
		Subject: fmt.Sprintf("Join the team %q on Inkgraph", name),
		Text: fmt.Sprintf("%s invited you to join the team %q on Inkgraph as %s.\n\n"+
			"Accept the invitation (signed in with this address, %s):\n%s\n\n"+
			"The link works once, until %s. If you did not expect this invitation, ignore this email.\n",
			inviter, name, strings.ToLower(string(inv.Role)), *inv.Email, link, inv.ExpiresAt.Format("2 January 2006 15:04 MST")),
	}
}

// AcceptInvitation makes the caller a member of the invitation's team with its role
// and returns the team. The token must be of a pending invitation (unknown: NOT_FOUND;
// expired or revoked: BAD_USER_INPUT; used: CONFLICT; all on field token), and its
// email the caller's unless it is a link invitation (FORBIDDEN). A caller who is a
// member already gets CONFLICT and the invitation stays unused.
func (s *Service) AcceptInvitation(ctx context.Context, userID, token string) (*models.Team, error) {
	if !strings.HasPrefix(token, tokenPrefix) {
		return nil, &models.Error{Code: models.CodeNotFound, Field: "token", Message: "no invitation has this token"}
	}
	hash := hashToken(token)
	// The team's plan, read before the lock (see InviteMember): the invitation's team
	// is looked up first.
	found, err := findInvitationByHash(ctx, s.d.DB, hash)
	if err != nil {
		return nil, withField(err, "token")
	}
	plan, err := s.d.Billing.TeamPlan(ctx, found.TeamID)
	if err != nil {
		return nil, err
	}
	var t *models.Team
	err = database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		inv, err := findInvitationByHash(ctx, tx, hash)
		if err != nil {
			return withField(err, "token")
		}
		if err := lockTeam(ctx, tx, inv.TeamID); err != nil {
			return withField(err, "token")
		}
		// Read again under the team's lock: a racing accept or revoke has committed.
		if inv, err = findInvitation(ctx, tx, inv.ID); err != nil {
			return withField(err, "token")
		}
		now := s.now()
		switch {
		case inv.AcceptedAt != nil:
			return &models.Error{Code: models.CodeConflict, Field: "token", Message: "this invitation has been used already"}
		case inv.RevokedAt != nil:
			return models.InvalidInput("token", "this invitation was revoked")
		case !now.Before(inv.ExpiresAt):
			return models.InvalidInput("token", "this invitation expired at %s", inv.ExpiresAt.Format(time.RFC3339))
		}
		// An invitation speaks for its inviter as they are now: one who left, or no
		// longer may grant its role, has it refused.
		if err := s.inviterMayGrant(ctx, tx, inv); err != nil {
			return err
		}
		if inv.Email != nil {
			email, err := userEmail(ctx, tx, userID)
			if err != nil {
				return err
			}
			if !strings.EqualFold(strings.TrimSpace(email), *inv.Email) {
				return forbidden("token", "this invitation is for another email address")
			}
		}
		if _, err := findMembership(ctx, tx, inv.TeamID, userID); err == nil {
			return &models.Error{Code: models.CodeConflict, Field: "token", Message: "you are a member of this team already"}
		} else if models.ErrorCode(err) != models.CodeNotFound {
			return err
		}
		// The invitation held its seat while pending; a team whose paid seats went
		// down since lets no one more in than it pays for.
		if members, err := countMembers(ctx, tx, inv.TeamID); err != nil {
			return err
		} else if plan.Limited && members+1 > plan.Seats {
			return &models.Error{Code: models.CodePaymentRequired, Field: "token", Seats: &models.SeatCount{Used: members, Paid: plan.Seats},
				Message: fmt.Sprintf("the team has %d members and pays for %d seats: its owner adds seats before anyone else joins", members, plan.Seats)}
		}
		if err := insertMember(ctx, tx, &models.TeamMember{TeamID: inv.TeamID, UserID: userID, Role: inv.Role, JoinedAt: now}); err != nil {
			return err
		}
		if err := markAccepted(ctx, tx, inv.ID, userID, now); err != nil {
			return err
		}
		if t, err = findTeam(ctx, tx, inv.TeamID); err != nil {
			return err
		}
		t.Role = inv.Role
		return s.audit(ctx, tx, userID, models.AuditTeamInvitationAccepted,
			models.AuditDetail{"team": inv.TeamID, "invitation": inv.ID, "role": string(inv.Role)})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, models.TeamMemberJoined, t.ID, userID, t.Role)
	return t, nil
}

// RevokeInvitation revokes a pending invitation of a team the caller manages (owners
// revoke any; admins all but owner invitations). An invitation the caller cannot see
// is NOT_FOUND; one used or revoked already is CONFLICT (field id).
func (s *Service) RevokeInvitation(ctx context.Context, userID, id string) (*models.TeamInvitation, error) {
	var inv *models.TeamInvitation
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		found, err := findInvitation(ctx, tx, id)
		if err != nil {
			return withField(err, "id")
		}
		// Members see no invitations: to them, as to strangers, it does not exist.
		caller, err := s.lockAsMember(ctx, tx, found.TeamID, userID, "id")
		if models.ErrorCode(err) == models.CodeNotFound || (err == nil && !caller.Role.Manages()) {
			return notFound("id", "invitation")
		}
		if err != nil {
			return err
		}
		if inv, err = findInvitation(ctx, tx, id); err != nil {
			return withField(err, "id")
		}
		switch {
		case inv.Role == models.TeamRoleOwner && caller.Role != models.TeamRoleOwner:
			return forbidden("id", "only owners revoke an owner's invitation")
		case inv.AcceptedAt != nil:
			return &models.Error{Code: models.CodeConflict, Field: "id", Message: "this invitation has been used already"}
		case inv.RevokedAt != nil:
			return &models.Error{Code: models.CodeConflict, Field: "id", Message: "this invitation was revoked already"}
		}
		now := s.now()
		if err := markRevoked(ctx, tx, id, now); err != nil {
			return err
		}
		inv.RevokedAt = &now
		return s.audit(ctx, tx, userID, models.AuditTeamInvitationRevoked, models.AuditDetail{"team": inv.TeamID, "invitation": id})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}

// ChangeRole gives a member of the team a new role. Owners change anyone's; admins
// change admins' and members' but neither an owner's nor to owner. The last owner
// cannot be demoted (CONFLICT).
func (s *Service) ChangeRole(ctx context.Context, userID, teamID, memberID string, role models.TeamRole) (*models.TeamMember, error) {
	if !role.Valid() {
		return nil, models.InvalidInput("role", "role must be OWNER, ADMIN or MEMBER")
	}
	var target *models.TeamMember
	changed := false
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		caller, err := s.lockAsMember(ctx, tx, teamID, userID, "teamId")
		if err != nil {
			return err
		}
		if target, err = s.manageable(ctx, tx, caller, memberID); err != nil {
			return err
		}
		if role == models.TeamRoleOwner && caller.Role != models.TeamRoleOwner {
			return forbidden("role", "only owners make owners")
		}
		from := target.Role
		if from == role {
			return nil
		}
		if err := s.keepAnOwner(ctx, tx, target, "role"); err != nil {
			return err
		}
		if err := updateRole(ctx, tx, teamID, memberID, role); err != nil {
			return err
		}
		target.Role = role
		changed = true
		return s.audit(ctx, tx, userID, models.AuditTeamRoleChanged,
			models.AuditDetail{"team": teamID, "user": memberID, "from": string(from), "to": string(role)})
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.publish(ctx, models.TeamRoleChanged, teamID, memberID, role)
	}
	return target, nil
}

// RemoveMember removes a member from the team and returns the membership removed.
// Owners remove anyone; admins remove admins and members. The last owner cannot be
// removed (CONFLICT).
func (s *Service) RemoveMember(ctx context.Context, userID, teamID, memberID string) (*models.TeamMember, error) {
	var target *models.TeamMember
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		caller, err := s.lockAsMember(ctx, tx, teamID, userID, "teamId")
		if err != nil {
			return err
		}
		if target, err = s.manageable(ctx, tx, caller, memberID); err != nil {
			return err
		}
		if err := s.keepAnOwner(ctx, tx, target, "userId"); err != nil {
			return err
		}
		if err := deleteMember(ctx, tx, teamID, memberID); err != nil {
			return err
		}
		return s.audit(ctx, tx, userID, models.AuditTeamMemberRemoved,
			models.AuditDetail{"team": teamID, "user": memberID, "role": string(target.Role)})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, models.TeamMemberRemoved, teamID, memberID, "")
	return target, nil
}

// LeaveTeam removes the caller from the team; the last owner cannot leave (CONFLICT,
// field teamId).
func (s *Service) LeaveTeam(ctx context.Context, userID, teamID string) error {
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		caller, err := s.lockAsMember(ctx, tx, teamID, userID, "teamId")
		if err != nil {
			return err
		}
		if err := s.keepAnOwner(ctx, tx, caller, "teamId"); err != nil {
			return err
		}
		if err := deleteMember(ctx, tx, teamID, userID); err != nil {
			return err
		}
		return s.audit(ctx, tx, userID, models.AuditTeamMemberLeft, models.AuditDetail{"team": teamID, "role": string(caller.Role)})
	})
	if err == nil {
		s.publish(ctx, models.TeamMemberLeft, teamID, userID, "")
	}
	return err
}

// TransferOwnership makes another member of the team an owner and the calling owner
// an admin, and returns the team with the caller's new role. Only owners transfer.
func (s *Service) TransferOwnership(ctx context.Context, userID, teamID, memberID string) (*models.Team, error) {
	var t *models.Team
	err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		caller, err := s.lockAsMember(ctx, tx, teamID, userID, "teamId")
		if err != nil {
			return err
		}
		if caller.Role != models.TeamRoleOwner {
			return forbidden("teamId", "only owners transfer ownership")
		}
		if memberID == userID {
			return models.InvalidInput("userId", "you own this team already: name another member")
		}
		if _, err := s.member(ctx, tx, teamID, memberID, "userId"); models.ErrorCode(err) == models.CodeNotFound {
			return notFound("userId", "team member")
		} else if err != nil {
			return err
		}
		if err := updateRole(ctx, tx, teamID, memberID, models.TeamRoleOwner); err != nil {
			return err
		}
		if err := updateRole(ctx, tx, teamID, userID, models.TeamRoleAdmin); err != nil {
			return err
		}
		if t, err = findTeam(ctx, tx, teamID); err != nil {
			return err
		}
		t.Role = models.TeamRoleAdmin
		return s.audit(ctx, tx, userID, models.AuditTeamOwnershipTransfer, models.AuditDetail{"team": teamID, "to": memberID})
	})
	if err != nil {
		return nil, err
	}
	s.publish(ctx, models.TeamRoleChanged, teamID, memberID, models.TeamRoleOwner)
	s.publish(ctx, models.TeamRoleChanged, teamID, userID, models.TeamRoleAdmin)
	return t, nil
}

// TeamAuditLog returns a page of the team's events, newest first (first 1 to 100, 20
// when 0; after a cursor of the log), for its owners and admins: FORBIDDEN for a
// member, NOT_FOUND (field teamId) for anyone else.
func (s *Service) TeamAuditLog(ctx context.Context, userID, teamID string, first int, after string) (*models.AuditConnection, error) {
	m, err := s.member(ctx, s.d.DB, teamID, userID, "teamId")
	if err != nil {
		return nil, err
	}
	if !m.Role.Manages() {
		return nil, forbidden("teamId", "only the team's owners and admins read its audit log")
	}
	log, err := s.d.Audit.TeamAuditLog(ctx, teamID, first, after)
	if err != nil {
		return nil, err
	}
	// A team's log is read by its admins: the addresses members acted from are theirs
	// alone (their own log shows them).
	for _, e := range log.Edges {
		e.Node.IP = ""
	}
	return log, nil
}

// DeleteTeam deletes the team with its members and invitations: owners only
// (FORBIDDEN for admins and members, NOT_FOUND on field id for anyone else). A team
// whose subscription would bill again cannot be deleted (CONFLICT, field id): nothing
// is cancelled at Stripe behind the owner's back; the owner cancels it in the team's
// billing portal first, and a subscription set to end with its period no longer stops
// the deletion (Stripe ends it, and its last events find no team). The team's audit
// log stays, with TEAM_DELETED last; teamEvents subscribers get TEAM_DELETED and their
// streams end.
func (s *Service) DeleteTeam(ctx context.Context, userID, id string) error {
	// The caller is checked before billing is asked anything of the team, and again
	// under the team's lock.
	owner := func(db bun.IDB, member func(context.Context, bun.IDB, string, string, string) (*models.TeamMember, error)) error {
		caller, err := member(ctx, db, id, userID, "id")
		if err != nil {
			return err
		}
		if caller.Role != models.TeamRoleOwner {
			return forbidden("id", "only the team's owners delete it")
		}
		return nil
	}
	if err := owner(s.d.DB, s.member); err != nil {
		return err
	}
	plan, err := s.d.Billing.TeamPlan(ctx, id)
	if err != nil {
		return err
	}
	err = database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := owner(tx, s.lockAsMember); err != nil {
			return err
		}
		if plan.Status.Live() && !plan.CancelAtPeriodEnd {
			return &models.Error{Code: models.CodeConflict, Field: "id", Message: fmt.Sprintf(
				"the team's subscription (%s) would still be billed: cancel it in the team's billing portal (teamBillingPortal) first; one set to end with its period does not stop the deletion", plan.Status)}
		}
		t, err := findTeam(ctx, tx, id)
		if err != nil {
			return withField(err, "id")
		}
		n, err := countMembers(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := s.audit(ctx, tx, userID, models.AuditTeamDeleted,
			models.AuditDetail{"team": id, "name": t.Name, "members": fmt.Sprint(n)}); err != nil {
			return err
		}
		if err := s.d.Spaces.DeleteTeamSpace(ctx, tx, id); err != nil {
			return err
		}
		return deleteTeam(ctx, tx, id)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, models.TeamDeleted, id, "", "")
	return nil
}

// TeamEvents streams the team's events (members joining, leaving, removed, role and
// seat changes, deletion), from any server instance, to a member of it (NOT_FOUND on
// field teamId for anyone else), until ctx ends. Membership is checked again before
// each event: a caller who is no longer a member gets nothing more and the stream
// ends (after TEAM_DELETED, which every member gets). Delivery is at most once: an
// event is a cue to read the team.
func (s *Service) TeamEvents(ctx context.Context, userID, teamID string) (<-chan *models.TeamEvent, error) {
	if _, err := s.member(ctx, s.d.DB, teamID, userID, "teamId"); err != nil {
		return nil, err
	}
	if s.d.Events == nil {
		return nil, models.Internal(errors.New("no events bus"), "team events")
	}
	ctx, cancel := context.WithCancel(ctx)
	in, err := s.d.Events.Subscribe(ctx, models.TeamEventsTopic(teamID))
	if err != nil {
		cancel()
		return nil, models.Internal(err, "subscribe to team events")
	}
	// A change between the check above and the subscription would otherwise be
	// missed: check once more now that events are followed.
	if _, err := s.member(ctx, s.d.DB, teamID, userID, "teamId"); err != nil {
		cancel()
		return nil, err
	}
	out := make(chan *models.TeamEvent, 1)
	go func() {
		defer close(out)
		defer cancel()
		for payload := range in {
			e := new(models.TeamEvent)
			if err := json.Unmarshal(payload, e); err != nil {
				s.d.Logger.ErrorContext(ctx, "decode team event", "error", err)
				continue
			}
			if e.Type != models.TeamDeleted {
				_, err := findMembership(ctx, s.d.DB, teamID, userID)
				if models.ErrorCode(err) == models.CodeNotFound {
					return // no longer a member: nothing more to see
				}
				if err != nil {
					s.d.Logger.ErrorContext(ctx, "check a team event's subscriber", "error", err, "team_id", teamID)
					return
				}
			}
			select {
			case out <- e:
			case <-ctx.Done():
				return
			}
			if e.Type == models.TeamDeleted {
				return
			}
		}
	}()
	return out, nil
}

// publish tells the team's subscribers, on every instance, what changed; a failure
// is logged (the change is committed, and an event is only a cue).
func (s *Service) publish(ctx context.Context, typ models.TeamEventType, teamID, userID string, role models.TeamRole) {
	if s.d.Events == nil {
		return
	}
	e := models.TeamEvent{Type: typ, TeamID: teamID, At: s.now()}
	if userID != "" {
		e.UserID = &userID
	}
	if role != "" {
		e.Role = &role
	}
	payload, err := json.Marshal(e)
	if err == nil {
		err = s.d.Events.Publish(context.WithoutCancel(ctx), models.TeamEventsTopic(teamID), payload)
	}
	if err != nil {
		s.d.Logger.ErrorContext(ctx, "publish team event", "error", err, "team_id", teamID, "type", typ)
	}
}

// Plan returns the team's plan (tier, paid seats, why it is lower than paid for),
// for a member of it.
func (s *Service) Plan(ctx context.Context, userID, teamID string) (models.TeamPlan, error) {
	if _, err := s.member(ctx, s.d.DB, teamID, userID, "teamId"); err != nil {
		return models.TeamPlan{}, err
	}
	return s.d.Billing.TeamPlan(ctx, teamID)
}

// SeatsUsed returns how many seats the team uses (members and pending invitations),
// for a member of it.
func (s *Service) SeatsUsed(ctx context.Context, userID, teamID string) (int, error) {
	if _, err := s.member(ctx, s.d.DB, teamID, userID, "teamId"); err != nil {
		return 0, err
	}
	return countSeatsUsed(ctx, s.d.DB, teamID, s.now())
}

// Entitlements lists every feature as the team's tier has it, for a member of it.
func (s *Service) Entitlements(ctx context.Context, userID, teamID string) ([]*models.Entitlement, error) {
	if _, err := s.member(ctx, s.d.DB, teamID, userID, "teamId"); err != nil {
		return nil, err
	}
	return s.d.Billing.TeamEntitlements(ctx, teamID)
}

// Checkout starts a Stripe Checkout of the team tier with seats seats for the team:
// owners only (FORBIDDEN for admins and members), and seats must cover what the team
// uses (BAD_USER_INPUT, field seats). The seats then paid come from Stripe's webhooks.
func (s *Service) Checkout(ctx context.Context, userID, teamID string, seats int) (*models.CheckoutSession, error) {
	if err := s.owner(ctx, userID, teamID, "start the team's checkout"); err != nil {
		return nil, err
	}
	used, err := countSeatsUsed(ctx, s.d.DB, teamID, s.now())
	if err != nil {
		return nil, err
	}
	if seats < used {
		return nil, models.InvalidInput("seats", "the team uses %d seats (members and pending invitations): buy at least %d, or revoke invitations first", used, used)
	}
	return s.d.Billing.CreateTeamCheckoutSession(ctx, userID, teamID, seats)
}

// BillingPortal opens the Stripe billing portal of the team's subscription (seats,
// payment method, invoices, cancelling): owners only.
func (s *Service) BillingPortal(ctx context.Context, userID, teamID string) (*models.PortalSession, error) {
	if err := s.owner(ctx, userID, teamID, "open the team's billing portal"); err != nil {
		return nil, err
	}
	return s.d.Billing.CreateTeamBillingPortalSession(ctx, userID, teamID)
}

// owner refuses anyone but an owner of the team: NOT_FOUND (field teamId) for a
// non-member, FORBIDDEN for an admin or member.
func (s *Service) owner(ctx context.Context, userID, teamID, what string) error {
	m, err := s.member(ctx, s.d.DB, teamID, userID, "teamId")
	if err != nil {
		return err
	}
	if m.Role != models.TeamRoleOwner {
		return forbidden("teamId", "only the team's owners "+what)
	}
	return nil
}

// seatFree refuses (PAYMENT_REQUIRED, field teamId, with the seats used and paid) an
// invitation past the seats the team pays for: members and pending invitations each
// hold one. The team is locked.
func (s *Service) seatFree(ctx context.Context, tx bun.IDB, teamID string, plan models.TeamPlan, now time.Time) error {
	if !plan.Limited {
		return nil
	}
	used, err := countSeatsUsed(ctx, tx, teamID, now)
	if err != nil {
		return err
	}
	if used+1 <= plan.Seats {
		return nil
	}
	msg := fmt.Sprintf("the team uses %d of the %d seats it pays for (members and pending invitations): its owner adds seats (teamCheckout, teamBillingPortal) or revokes an invitation first", used, plan.Seats)
	if plan.Note != "" {
		msg += " (" + plan.Note + ")"
	}
	return &models.Error{Code: models.CodePaymentRequired, Field: "teamId", Seats: &models.SeatCount{Used: used, Paid: plan.Seats}, Message: msg}
}

// noBilling is the team's billing when there is none: free, seats not counted.
type noBilling struct{}

func (noBilling) TeamPlan(context.Context, string) (models.TeamPlan, error) {
	return models.TeamPlan{Tier: models.TierFree, Seats: models.FreeTeamSeats, Status: models.SubscriptionNone}, nil
}

func (noBilling) TeamEntitlements(context.Context, string) ([]*models.Entitlement, error) {
	return nil, notConfigured()
}

func (noBilling) CreateTeamCheckoutSession(context.Context, string, string, int) (*models.CheckoutSession, error) {
	return nil, notConfigured()
}

func (noBilling) CreateTeamBillingPortalSession(context.Context, string, string) (*models.PortalSession, error) {
	return nil, notConfigured()
}

func notConfigured() error {
	return models.Errorf(models.CodeBillingNotConfigured, "billing is not configured on this server: teams are not billed")
}

// teamOf returns the team with the caller's role, NOT_FOUND on field unless the
// caller is a member.
func (s *Service) teamOf(ctx context.Context, db bun.IDB, userID, id, field string) (*models.Team, error) {
	m, err := s.member(ctx, db, id, userID, field)
	if err != nil {
		return nil, err
	}
	t, err := findTeam(ctx, db, id)
	if err != nil {
		return nil, withField(err, field)
	}
	t.Role = m.Role
	return t, nil
}

// member returns the user's membership of the team; NOT_FOUND on field when the user
// is not a member, whether or not the team exists.
func (s *Service) member(ctx context.Context, db bun.IDB, teamID, userID, field string) (*models.TeamMember, error) {
	m, err := findMembership(ctx, db, teamID, userID)
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, notFound(field, "team")
	}
	return m, err
}

// lockAsMember locks the team and returns the caller's membership of it: NOT_FOUND on
// field when the team does not exist or the caller is not a member.
func (s *Service) lockAsMember(ctx context.Context, tx bun.IDB, teamID, userID, field string) (*models.TeamMember, error) {
	if err := lockTeam(ctx, tx, teamID); err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, notFound(field, "team")
		}
		return nil, err
	}
	return s.member(ctx, tx, teamID, userID, field)
}

// inviterMayGrant refuses (FORBIDDEN, field token) an invitation whose inviter is no
// longer a member, or no longer may grant its role (owners grant owner; owners and
// admins the others). The team is locked.
func (s *Service) inviterMayGrant(ctx context.Context, tx bun.IDB, inv *models.TeamInvitation) error {
	inviter, err := findMembership(ctx, tx, inv.TeamID, inv.InvitedBy)
	switch {
	case models.ErrorCode(err) == models.CodeNotFound:
		return forbidden("token", "whoever made this invitation is no longer in the team: ask for a new one")
	case err != nil:
		return err
	case !inviter.Role.Manages(), inv.Role == models.TeamRoleOwner && inviter.Role != models.TeamRoleOwner:
		return forbidden("token", "whoever made this invitation may no longer grant its role: ask for a new one")
	}
	return nil
}

// manageable returns the membership memberID that caller may change: FORBIDDEN unless
// the caller manages the team, and for an admin touching an owner; NOT_FOUND (field
// userId) when memberID is not a member.
func (s *Service) manageable(ctx context.Context, tx bun.IDB, caller *models.TeamMember, memberID string) (*models.TeamMember, error) {
	if !caller.Role.Manages() {
		return nil, forbidden("teamId", "only the team's owners and admins manage members")
	}
	target, err := s.member(ctx, tx, caller.TeamID, memberID, "userId")
	if models.ErrorCode(err) == models.CodeNotFound {
		return nil, notFound("userId", "team member")
	}
	if err != nil {
		return nil, err
	}
	if target.Role == models.TeamRoleOwner && caller.Role != models.TeamRoleOwner {
		return nil, forbidden("userId", "only owners change or remove an owner")
	}
	return target, nil
}

// keepAnOwner refuses (CONFLICT on field) a change that would take the owner role
// from m when m is the team's last owner. The team is locked.
func (s *Service) keepAnOwner(ctx context.Context, tx bun.IDB, m *models.TeamMember, field string) error {
	if m.Role != models.TeamRoleOwner {
		return nil
	}
	n, err := countOwners(ctx, tx, m.TeamID)
	if err != nil {
		return err
	}
	if n <= 1 {
		return &models.Error{Code: models.CodeConflict, Field: field,
			Message: "a team keeps at least one owner: transfer ownership or make another owner first"}
	}
	return nil
}

// audit records a team event in the acting user's log and the team's (detail's team),
// naming who acted (detail's by): the team's log is read by others.
func (s *Service) audit(ctx context.Context, tx bun.IDB, userID string, kind models.AuditKind, detail models.AuditDetail) error {
	detail["by"] = userID
	return s.d.Audit.RecordIn(ctx, tx, models.AuditEntry{
		UserID: userID, TeamID: detail["team"], Kind: kind, Detail: detail, IP: s.d.ClientIP(ctx),
	})
}

func checkName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if err := models.CheckText("name", "a team name", name, false); err != nil {
		return "", err
	}
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", models.InvalidInput("name", "a team needs a name")
	case n > MaxNameLength:
		return "", models.InvalidInput("name", "a team name has at most %d characters, got %d", MaxNameLength, n)
	}
	return name, nil
}

func checkEmail(email *string) (string, error) {
	if email == nil {
		return "", models.InvalidInput("email", "an invitation needs an email, or link true for a link invitation")
	}
	e := strings.ToLower(strings.TrimSpace(*email))
	// Exactly one bare address, as the mailer will parse it: no list, no display
	// name, no comment, nothing the mailer would read as another recipient.
	a, err := netmail.ParseAddress(e)
	if err != nil || a.Name != "" || a.Address != e || len(e) > maxEmail || strings.ContainsAny(e, " \t\r\n") {
		return "", models.InvalidInput("email", "email is not one email address (name@example.com, with no name, comment or second address)")
	}
	return e, nil
}

// newToken returns a new invitation token and its hash.
func newToken() (token, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", models.Internal(err, "invitation token")
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func notFound(field, what string) error {
	return &models.Error{Code: models.CodeNotFound, Field: field, Message: what + " not found"}
}

func forbidden(field, msg string) error {
	return &models.Error{Code: models.CodeForbidden, Field: field, Message: msg}
}

// withField names field on an application error that names none.
func withField(err error, field string) error {
	var e *models.Error
	if errors.As(err, &e) && e.Field == "" && e.Code != models.CodeInternal {
		c := *e
		c.Field = field
		return &c
	}
	return err
}
