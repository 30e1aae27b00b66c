package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// Sessions lists the signed-in user's live sessions (not revoked, used within a
// refresh token's life), most recently used first, the caller's own marked Current.
func (s *Service) Sessions(ctx context.Context, caller models.Caller) ([]*models.Session, error) {
	if err := caller.RequireSession(); err != nil {
		return nil, err
	}
	sessions, err := findLiveSessions(ctx, s.db, caller.UserID, s.now().Add(-s.cfg.RefreshTTL))
	if err != nil {
		return nil, err
	}
	for _, session := range sessions {
		session.Current = session.ID == caller.SessionID
	}
	return sessions, nil
}

// RevokeSession ends one of the signed-in user's sessions, the caller's own included:
// its refresh tokens stop working, and so, on every instance, do its access tokens and
// the sockets they opened. Ending an ended session returns it unchanged; another
// user's session is NOT_FOUND.
func (s *Service) RevokeSession(ctx context.Context, caller models.Caller, id string) (*models.Session, error) {
	if err := caller.RequireSession(); err != nil {
		return nil, err
	}
	now := s.now()
	revoked, err := revokeSession(ctx, s.db, caller.UserID, id, now, models.RevokedByUser)
	if err != nil {
		return nil, err
	}
	session, err := findSession(ctx, s.db, caller.UserID, id)
	if err != nil {
		if models.ErrorCode(err) == models.CodeNotFound {
			return nil, &models.Error{Code: models.CodeNotFound, Field: "id", Message: "no such session"}
		}
		return nil, err
	}
	session.Current = session.ID == caller.SessionID
	if revoked {
		s.ended(ctx, caller.UserID, id, models.RevokedByUser, now)
		s.audit(ctx, caller.UserID, models.AuditSessionRevoked, models.AuditDetail{"session": id})
	}
	return session, nil
}

// RevokeOtherSessions ends every session of the signed-in user but the caller's own,
// and returns how many it ended.
func (s *Service) RevokeOtherSessions(ctx context.Context, caller models.Caller) (int, error) {
	if err := caller.RequireSession(); err != nil {
		return 0, err
	}
	now := s.now()
	var ended []string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ids, err := revokeSessionsExcept(ctx, tx, caller.UserID, caller.SessionID, now, models.RevokedByUser)
		ended = ids
		return err
	})
	if err != nil {
		return 0, err
	}
	for _, id := range ended {
		s.ended(ctx, caller.UserID, id, models.RevokedByUser, now)
	}
	if len(ended) > 0 {
		s.audit(ctx, caller.UserID, models.AuditSessionRevoked, models.AuditDetail{
			"sessions": fmt.Sprint(len(ended)), "kept": caller.SessionID,
		})
	}
	return len(ended), nil
}

func findLiveSessions(ctx context.Context, db bun.IDB, userID string, usedSince time.Time) ([]*models.Session, error) {
	var sessions []*models.Session
	err := db.NewSelect().Model(&sessions).
		Where("user_id = ? AND revoked_at IS NULL AND last_used_at > ?", userID, usedSince).
		Order("last_used_at DESC", "id DESC").
		Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("find sessions: %w", err)
	}
	return sessions, nil
}

// revokeSessionsExcept ends every live session of userID but keep, and returns the IDs
// it ended. The IDs are read first, in the same transaction; on PostgreSQL a session
// revoked between the read and the update is not counted twice, as the update only
// matches sessions still live.
func revokeSessionsExcept(ctx context.Context, db bun.IDB, userID, keep string, at time.Time, reason models.RevocationReason) ([]string, error) {
	var ids []string
	err := db.NewSelect().Model((*models.Session)(nil)).Column("id").
		Where("user_id = ? AND id <> ? AND revoked_at IS NULL", userID, keep).
		Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("find sessions to revoke: %w", err)
	}
	var ended []string
	for _, id := range ids {
		ok, err := revokeSession(ctx, db, userID, id, at, reason)
		if err != nil {
			return nil, err
		}
		if ok {
			ended = append(ended, id)
		}
	}
	return ended, nil
}
