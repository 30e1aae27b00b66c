package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// The store: every SQL statement of the accounts area, over bun.IDB so the service
// can run them inside its transactions.

// errEmailTaken is insertUser's answer when the email has an account: never shown to
// a client, which must not learn that (Register answers as Login would).
var errEmailTaken = errors.New("an account with this email already exists")

func insertUser(ctx context.Context, db bun.IDB, u *models.User) error {
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err) {
			return fmt.Errorf("insert user: %w: %w", errEmailTaken, err)
		}
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

// findUserByEmail is the one lookup not scoped by user ID: it is how signing in finds the user.
func findUserByEmail(ctx context.Context, db bun.IDB, email string) (*models.User, error) {
	u := new(models.User)
	err := db.NewSelect().Model(u).Where("email = ?", email).Where("kind = ?", models.UserPerson).Scan(ctx)
	return u, database.NotFound(err, "user")
}

// insertTeamSpace adds a team's shared space: a users row with the team's ID that
// nobody can sign in as (no password hash, and 'team:<id>' is no email address).
func insertTeamSpace(ctx context.Context, db bun.IDB, teamID string, at time.Time) error {
	u := &models.User{ID: teamID, Email: "team:" + teamID, Tier: models.TierFree, Kind: models.UserTeamSpace, CreatedAt: at, UpdatedAt: at}
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		return fmt.Errorf("insert team space: %w", err)
	}
	return nil
}

// deleteTeamSpace deletes a team's shared space and, by cascade, everything kept in it.
func deleteTeamSpace(ctx context.Context, db bun.IDB, teamID string) error {
	_, err := db.NewDelete().Model((*models.User)(nil)).Where("id = ?", teamID).Where("kind = ?", models.UserTeamSpace).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete team space: %w", err)
	}
	return nil
}

func findUserByID(ctx context.Context, db bun.IDB, id string) (*models.User, error) {
	u := new(models.User)
	err := db.NewSelect().Model(u).Where("id = ?", id).Scan(ctx)
	return u, database.NotFound(err, "user")
}

// findUsersByIDs reads what a loader shows of an account: never the password hash,
// which only signing in needs.
func findUsersByIDs(ctx context.Context, db bun.IDB, ids []string) (map[string]*models.User, error) {
	var users []*models.User
	err := db.NewSelect().Model(&users).Column("id", "email", "tier", "created_at", "updated_at").
		Where("id IN (?)", bun.List(ids)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find users: %w", err)
	}
	out := make(map[string]*models.User, len(users))
	for _, u := range users {
		out[u.ID] = u
	}
	return out, nil
}

func insertSession(ctx context.Context, db bun.IDB, s *models.Session) error {
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

func findSession(ctx context.Context, db bun.IDB, userID, id string) (*models.Session, error) {
	s := new(models.Session)
	err := db.NewSelect().Model(s).Where("id = ? AND user_id = ?", id, userID).Scan(ctx)
	return s, database.NotFound(err, "session")
}

// touchSession records a use of a session that has not been revoked, and reports
// whether there was one. On PostgreSQL it waits for a concurrent revocation's row lock.
func touchSession(ctx context.Context, db bun.IDB, userID, id string, at time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*models.Session)(nil)).
		Set("last_used_at = ?", at).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("touch session: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// revokeSession ends a session unless it has already ended, and reports whether this
// call ended it.
func revokeSession(ctx context.Context, db bun.IDB, userID, id string, at time.Time, reason models.RevocationReason) (bool, error) {
	res, err := db.NewUpdate().Model((*models.Session)(nil)).
		Set("revoked_at = ?", at).
		Set("revoke_reason = ?", string(reason)).
		Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("revoke session: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func insertRefreshToken(ctx context.Context, db bun.IDB, t *models.RefreshToken) error {
	if _, err := db.NewInsert().Model(t).Exec(ctx); err != nil {
		return fmt.Errorf("insert refresh token: %w", err)
	}
	return nil
}

// findRefreshTokenByHash looks a presented token up by its hash: the caller is not
// known yet, the token is what identifies them.
func findRefreshTokenByHash(ctx context.Context, db bun.IDB, hash string) (*models.RefreshToken, error) {
	t := new(models.RefreshToken)
	err := db.NewSelect().Model(t).Where("token_hash = ?", hash).Scan(ctx)
	return t, database.NotFound(err, "refresh token")
}

// claimRefreshToken marks a token used if nobody has yet. Of two concurrent claims
// exactly one changes the row: on PostgreSQL the second UPDATE waits for the first's
// row lock and then no longer matches "used_at IS NULL".
func claimRefreshToken(ctx context.Context, db bun.IDB, userID, id string, at time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*models.RefreshToken)(nil)).
		Set("used_at = ?", at).
		Where("id = ? AND user_id = ? AND used_at IS NULL", id, userID).
		Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("claim refresh token: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func updateUserTier(ctx context.Context, db bun.IDB, userID string, tier models.Tier, at time.Time) (bool, error) {
	res, err := db.NewUpdate().Model((*models.User)(nil)).
		Set("tier = ?", tier).Set("updated_at = ?", at).
		Where("id = ? AND tier <> ?", userID, tier).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("update tier: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// findSessionsRevokedSince returns the sessions revoked at or after since: what an
// instance's revocation set holds.
func findSessionsRevokedSince(ctx context.Context, db bun.IDB, since time.Time) ([]models.Session, error) {
	var sessions []models.Session
	if err := db.NewSelect().Model(&sessions).Column("id", "revoked_at").
		Where("revoked_at >= ?", since).Scan(ctx); err != nil {
		return nil, fmt.Errorf("find revoked sessions: %w", err)
	}
	return sessions, nil
}
