package billing

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// Auditor records entries in users' audit logs; the audit area (internal/audit)
// satisfies it. RecordIn writes into db, which is billing's transaction when the
// entry is part of a change (a folded webhook, a granted tier): the entry and the
// change commit together or not at all. An entry whose non-empty Ref was recorded
// before for the user and kind is dropped.
type Auditor interface {
	RecordIn(ctx context.Context, db bun.IDB, e models.AuditEntry) error
}

// audit records an entry in db (a transaction when it is part of a change).
func (s *Service) audit(ctx context.Context, db bun.IDB, userID string, kind models.AuditKind, detail models.AuditDetail, ip, ref string, at time.Time) error {
	return s.auditor.RecordIn(ctx, db, models.AuditEntry{UserID: userID, Kind: kind, Detail: detail, IP: ip, Ref: ref, At: at})
}
