package team

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every read of a team's rows here is by the team's ID; the service decides, from the
// caller's membership (findMembership), whether the caller may see or change them.

func insertTeam(ctx context.Context, db bun.IDB, t *models.Team) error {
	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("create team: %w", err)
	}
	return nil
}

// lockTeam serialises every change of the team's members and invitations: on
// PostgreSQL by the team row's lock, on SQLite by the database's write lock, which
// transactions hold from their first statement. A team that does not exist is
// NOT_FOUND.
func lockTeam(ctx context.Context, tx bun.IDB, teamID string) error {
	q := tx.NewSelect().Table("teams").Column("id").Where("id = ?", teamID)
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	var id string
	return database.NotFound(q.Scan(ctx, &id), "team")
}

func findTeam(ctx context.Context, db bun.IDB, id string) (*models.Team, error) {
	t := new(models.Team)
	if err := database.NotFound(db.NewSelect().Model(t).Where("id = ?", id).Scan(ctx), "team"); err != nil {
		return nil, err
	}
	t.CreatedAt = t.CreatedAt.UTC()
	return t, nil
}

// countCreatedTeams counts the teams userID created that still exist, whoever owns
// them now.
func countCreatedTeams(ctx context.Context, db bun.IDB, userID string) (int, error) {
	n, err := db.NewSelect().Model((*models.Team)(nil)).Where("created_by = ?", userID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count created teams: %w", err)
	}
	return int(n), nil
}

// findTeamsOf returns the user's teams with the user's role in each, oldest first.
func findTeamsOf(ctx context.Context, db bun.IDB, userID string) ([]*models.Team, error) {
	var rows []struct {
		models.Team `bun:",extend"`
		MemberRole  models.TeamRole `bun:"member_role"`
	}
	err := db.NewSelect().Model(&rows).
		ColumnExpr("team.*, m.role AS member_role").
		Join("JOIN team_members AS m ON m.team_id = team.id").
		Where("m.user_id = ?", userID).
		Order("team.created_at", "team.id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find teams: %w", err)
	}
	teams := make([]*models.Team, 0, len(rows))
	for i := range rows {
		t := rows[i].Team
		t.Role, t.CreatedAt = rows[i].MemberRole, t.CreatedAt.UTC()
		teams = append(teams, &t)
	}
	return teams, nil
}

// findMembership returns the user's membership of the team, NOT_FOUND when the user
// is not a member (or the team does not exist).
func findMembership(ctx context.Context, db bun.IDB, teamID, userID string) (*models.TeamMember, error) {
	m := new(models.TeamMember)
	err := db.NewSelect().Model(m).
		ColumnExpr("team_member.*, u.email").
		Join("JOIN users AS u ON u.id = team_member.user_id").
		Where("team_member.team_id = ? AND team_member.user_id = ?", teamID, userID).
		Scan(ctx)
	if err := database.NotFound(err, "team member"); err != nil {
		return nil, err
	}
	m.JoinedAt = m.JoinedAt.UTC()
	return m, nil
}

// findMembers returns the team's members, by when they joined.
func findMembers(ctx context.Context, db bun.IDB, teamID string) ([]*models.TeamMember, error) {
	var ms []*models.TeamMember
	err := db.NewSelect().Model(&ms).
		ColumnExpr("team_member.*, u.email").
		Join("JOIN users AS u ON u.id = team_member.user_id").
		Where("team_member.team_id = ?", teamID).
		Order("team_member.joined_at", "team_member.user_id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find team members: %w", err)
	}
	for _, m := range ms {
		m.JoinedAt = m.JoinedAt.UTC()
	}
	return ms, nil
}

// findMembersOfTeams returns the members of those of the teams userID is a member of,
// by team, by when they joined; the membership check is part of the one statement.
func findMembersOfTeams(ctx context.Context, db bun.IDB, userID string, teamIDs []string) (map[string][]*models.TeamMember, error) {
	out := make(map[string][]*models.TeamMember, len(teamIDs))
	if len(teamIDs) == 0 {
		return out, nil
	}
	var ms []*models.TeamMember
	err := db.NewSelect().Model(&ms).
		ColumnExpr("team_member.*, u.email").
		Join("JOIN users AS u ON u.id = team_member.user_id").
		Where("team_member.team_id IN (?)", bun.List(teamIDs)).
		Where("team_member.team_id IN (SELECT mine.team_id FROM team_members AS mine WHERE mine.user_id = ?)", userID).
		Order("team_member.team_id", "team_member.joined_at", "team_member.user_id").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find members of teams: %w", err)
	}
	for _, m := range ms {
		m.JoinedAt = m.JoinedAt.UTC()
		out[m.TeamID] = append(out[m.TeamID], m)
	}
	return out, nil
}

func countOwners(ctx context.Context, db bun.IDB, teamID string) (int, error) {
	n, err := db.NewSelect().Model((*models.TeamMember)(nil)).
		Where("team_id = ? AND role = ?", teamID, models.TeamRoleOwner).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count team owners: %w", err)
	}
	return int(n), nil
}

// memberByEmail reports whether a user with the email is a member of the team.
func memberByEmail(ctx context.Context, db bun.IDB, teamID, email string) (bool, error) {
	n, err := db.NewSelect().Model((*models.TeamMember)(nil)).
		Join("JOIN users AS u ON u.id = team_member.user_id").
		Where("team_member.team_id = ? AND lower(u.email) = ?", teamID, email).Count(ctx)
	if err != nil {
		return false, fmt.Errorf("find member by email: %w", err)
	}
	return n > 0, nil
}

func insertMember(ctx context.Context, db bun.IDB, m *models.TeamMember) error {
	if _, err := db.NewInsert().Model(m).Exec(ctx); err != nil {
		return fmt.Errorf("add team member: %w", err)
	}
	return nil
}

func updateRole(ctx context.Context, db bun.IDB, teamID, userID string, role models.TeamRole) error {
	_, err := db.NewUpdate().Model((*models.TeamMember)(nil)).Set("role = ?", role).
		Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("change team role: %w", err)
	}
	return nil
}

func deleteMember(ctx context.Context, db bun.IDB, teamID, userID string) error {
	_, err := db.NewDelete().Model((*models.TeamMember)(nil)).
		Where("team_id = ? AND user_id = ?", teamID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("remove team member: %w", err)
	}
	return nil
}

// userEmail returns the user's email.
func userEmail(ctx context.Context, db bun.IDB, userID string) (string, error) {
	var email string
	err := db.NewSelect().Table("users").Column("email").Where("id = ?", userID).Scan(ctx, &email)
	return email, database.NotFound(err, "user")
}

func insertInvitation(ctx context.Context, db bun.IDB, inv *models.TeamInvitation) error {
	if _, err := db.NewInsert().Model(inv).Exec(ctx); err != nil {
		return fmt.Errorf("create team invitation: %w", err)
	}
	return nil
}

func findInvitation(ctx context.Context, db bun.IDB, id string) (*models.TeamInvitation, error) {
	inv := new(models.TeamInvitation)
	if err := database.NotFound(db.NewSelect().Model(inv).Where("id = ?", id).Scan(ctx), "invitation"); err != nil {
		return nil, err
	}
	return invitationInUTC(inv), nil
}

func findInvitationByHash(ctx context.Context, db bun.IDB, hash string) (*models.TeamInvitation, error) {
	inv := new(models.TeamInvitation)
	if err := database.NotFound(db.NewSelect().Model(inv).Where("token_hash = ?", hash).Scan(ctx), "invitation"); err != nil {
		return nil, err
	}
	return invitationInUTC(inv), nil
}

// findPendingInvitations returns the team's invitations neither accepted, revoked nor
// expired at now, newest first.
func findPendingInvitations(ctx context.Context, db bun.IDB, teamID string, now time.Time) ([]*models.TeamInvitation, error) {
	var invs []*models.TeamInvitation
	err := db.NewSelect().Model(&invs).
		Where("team_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", teamID, now).
		Order("created_at DESC", "id DESC").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find team invitations: %w", err)
	}
	for _, inv := range invs {
		invitationInUTC(inv)
	}
	return invs, nil
}

func markAccepted(ctx context.Context, db bun.IDB, id, userID string, at time.Time) error {
	_, err := db.NewUpdate().Model((*models.TeamInvitation)(nil)).
		Set("accepted_at = ?", at).Set("accepted_by = ?", userID).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("accept team invitation: %w", err)
	}
	return nil
}

func markRevoked(ctx context.Context, db bun.IDB, id string, at time.Time) error {
	_, err := db.NewUpdate().Model((*models.TeamInvitation)(nil)).Set("revoked_at = ?", at).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("revoke team invitation: %w", err)
	}
	return nil
}

func invitationInUTC(inv *models.TeamInvitation) *models.TeamInvitation {
	inv.ExpiresAt, inv.CreatedAt = inv.ExpiresAt.UTC(), inv.CreatedAt.UTC()
	for _, t := range []*time.Time{inv.AcceptedAt, inv.RevokedAt} {
		if t != nil {
			*t = t.UTC()
		}
	}
	return inv
}

// countMembers returns how many members the team has.
func countMembers(ctx context.Context, db bun.IDB, teamID string) (int, error) {
	n, err := db.NewSelect().Model((*models.TeamMember)(nil)).Where("team_id = ?", teamID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count team members: %w", err)
	}
	return int(n), nil
}

// countSeatsUsed returns the seats the team uses at now: its members and its pending
// invitations (neither accepted, revoked nor expired), in one statement.
func countSeatsUsed(ctx context.Context, db bun.IDB, teamID string, now time.Time) (int, error) {
	var n int
	err := db.NewRaw(`SELECT (SELECT count(*) FROM team_members WHERE team_id = ?) +
		(SELECT count(*) FROM team_invitations WHERE team_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?)`,
		teamID, teamID, now).Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("count team seats: %w", err)
	}
	return n, nil
}

// deletePendingInvitation deletes an invitation whose email failed, unless it was
// accepted meanwhile (the email did arrive): it reports whether it deleted it.
func deletePendingInvitation(ctx context.Context, db bun.IDB, id string) (bool, error) {
	res, err := db.NewDelete().Model((*models.TeamInvitation)(nil)).Where("id = ? AND accepted_at IS NULL", id).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("delete team invitation: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// deleteTeam deletes the team; its members and invitations go with it (ON DELETE
// CASCADE), its billing account too, its audit entries stay.
func deleteTeam(ctx context.Context, db bun.IDB, id string) error {
	if _, err := db.NewDelete().Model((*models.Team)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("delete team: %w", err)
	}
	return nil
}
