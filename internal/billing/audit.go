package billing

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// Auditor records security- and money-relevant events of a user's account; the
// billing service satisfies it. Areas that record events (auth: logins, failed
// logins, logouts; onboarding: provider keys saved and deleted) declare an interface
// like it and are given the billing service.
type Auditor interface {
	Record(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error
}

var _ Auditor = (*Service)(nil)

const (
	defaultAuditPage = 20
	maxAuditPage     = 100
)

// Record adds an entry to the user's audit log, with the client's address when ctx
// comes from a request. detail must not hold secrets.
func (s *Service) Record(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error {
	if userID == "" {
		return models.InvalidInput("userID", "an audit entry needs a user")
	}
	if !kind.Valid() {
		return models.InvalidInput("kind", "unknown audit kind %q", kind)
	}
	return s.audit(ctx, s.db, userID, kind, detail, s.clientIP(ctx), "", s.now())
}

// audit records an entry in db (a transaction when it is part of a change). An
// entry whose ref was recorded before for the user and kind is dropped.
func (s *Service) audit(ctx context.Context, db bun.IDB, userID string, kind models.AuditKind, detail models.AuditDetail, ip, ref string, at time.Time) error {
	id, err := newID()
	if err != nil {
		return err
	}
	if detail == nil {
		detail = models.AuditDetail{}
	}
	_, err = insertAudit(ctx, db, &models.AuditEntry{ID: id, UserID: userID, Kind: kind, Detail: detail, IP: ip, Ref: ref,
		At: at.UTC().Truncate(time.Microsecond)})
	return err
}

// AuditLog returns a page of the user's audit log, newest first: first entries (1 to
// 100, 20 when 0) after the cursor after ("" for the newest).
func (s *Service) AuditLog(ctx context.Context, userID string, first int, after string) (*models.AuditConnection, error) {
	switch {
	case first == 0:
		first = defaultAuditPage
	case first < 1 || first > maxAuditPage:
		return nil, models.InvalidInput("first", "first must be between 1 and %d, got %d", maxAuditPage, first)
	}
	var cur *auditCursor
	if after != "" {
		c, err := parseAuditCursor(after)
		if err != nil {
			return nil, models.InvalidInput("after", "after is not a cursor of this log: pass an edge's cursor or endCursor")
		}
		cur = &c
	}
	rows, err := findAudit(ctx, s.db, userID, cur, first+1)
	if err != nil {
		return nil, err
	}
	conn := &models.AuditConnection{PageInfo: models.PageInfo{HasNextPage: len(rows) > first}}
	if len(rows) > first {
		rows = rows[:first]
	}
	for _, e := range rows {
		conn.Edges = append(conn.Edges, &models.AuditEdge{Cursor: auditCursor{At: e.At, ID: e.ID}.String(), Node: e})
	}
	if n := len(conn.Edges); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn, nil
}

// auditCursor is a position in a log ordered by (at, id), both descending.
type auditCursor struct {
	At time.Time
	ID string
}

func (c auditCursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + ":" + c.ID))
}

func parseAuditCursor(s string) (auditCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return auditCursor{}, err
	}
	at, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return auditCursor{}, fmt.Errorf("cursor %q has no id", s)
	}
	micros, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return auditCursor{}, err
	}
	return auditCursor{At: time.UnixMicro(micros).UTC(), ID: id}, nil
}
