// Package audit owns the audit log: the security- and money-relevant events of a
// user's account (sign-ins, failed sign-ins and sign-outs from auth; provider keys
// saved and deleted from onboarding; checkouts, cancellations, payments and tier
// changes from billing; invitations, role changes, removals and ownership
// transfers from teams), and reading it back a page at a time, newest first.
//
// Areas write to it through a small Auditor interface they declare themselves.
// Record writes one entry on its own; RecordIn writes into the caller's bun.IDB, so
// an entry that is part of a change (billing's webhook fold) commits or rolls back
// with it.
package audit

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// Deps are what the service is built from.
type Deps struct {
	DB bun.IDB
	// Now is the clock of entries recorded without a time; time.Now when nil.
	Now func() time.Time
	// ClientIP returns the client's address of a request's context, "" when unknown,
	// for entries recorded with Record; nil records none.
	ClientIP func(ctx context.Context) string
}

// Service implements the audit area.
type Service struct {
	db       bun.IDB
	clock    func() time.Time
	clientIP func(ctx context.Context) string
}

const (
	defaultPage = 20
	maxPage     = 100
)

// NewService returns the audit service.
func NewService(d Deps) (*Service, error) {
	if d.DB == nil {
		return nil, errors.New("audit: DB is required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.ClientIP == nil {
		d.ClientIP = func(context.Context) string { return "" }
	}
	return &Service{db: d.DB, clock: d.Now, clientIP: d.ClientIP}, nil
}

// Record adds an entry to the user's audit log, with the client's address when ctx
// comes from a request. detail must not hold secrets.
//
// An entry about a team's shared space (userID is the team's, the caller acting in
// it) goes to the acting user's log and the team's: user_id is the caller, team_id
// the team, and the detail names the team.
func (s *Service) Record(ctx context.Context, userID string, kind models.AuditKind, detail models.AuditDetail) error {
	e := models.AuditEntry{UserID: userID, Kind: kind, Detail: detail, IP: s.clientIP(ctx)}
	if c, ok := models.SignedIn(ctx); ok && c.Team != "" && c.Team == userID {
		e.UserID, e.TeamID = c.UserID, c.Team
		e.Detail = maps.Clone(detail)
		if e.Detail == nil {
			e.Detail = models.AuditDetail{}
		}
		e.Detail["team"] = c.Team
	}
	return s.RecordIn(ctx, s.db, e)
}

// RecordIn adds e to its user's audit log in db: the caller's transaction when the
// entry is part of a change, so that both commit or neither does. The ID is new; a
// zero At means now; IP and Ref are kept as given. An entry whose non-empty Ref was
// recorded before for the same user and kind is dropped (one entry per Stripe
// request, however often it is seen). detail must not hold secrets.
func (s *Service) RecordIn(ctx context.Context, db bun.IDB, e models.AuditEntry) error {
	if e.UserID == "" {
		return models.InvalidInput("userID", "an audit entry needs a user")
	}
	if !e.Kind.Valid() {
		return models.InvalidInput("kind", "unknown audit kind %q", e.Kind)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return models.Internal(err, "new id")
	}
	e.ID = id.String()
	if e.At.IsZero() {
		e.At = s.clock()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond) // what both dialects store unchanged
	if e.Detail == nil {
		e.Detail = models.AuditDetail{}
	}
	return insertEntry(ctx, db, &e)
}

// AuditLog returns a page of the user's audit log, newest first: first entries (1 to
// 100, 20 when 0) after the cursor after ("" for the newest).
func (s *Service) AuditLog(ctx context.Context, userID string, first int, after string) (*models.AuditConnection, error) {
	return s.page(ctx, "user_id", userID, first, after)
}

// TeamAuditLog returns a page of the team's events (entries recorded with its
// TeamID), newest first, as AuditLog pages. Whether the caller may read it is the
// team area's to decide.
func (s *Service) TeamAuditLog(ctx context.Context, teamID string, first int, after string) (*models.AuditConnection, error) {
	return s.page(ctx, "team_id", teamID, first, after)
}

func (s *Service) page(ctx context.Context, column, value string, first int, after string) (*models.AuditConnection, error) {
	switch {
	case first == 0:
		first = defaultPage
	case first < 1 || first > maxPage:
		return nil, models.InvalidInput("first", "first must be between 1 and %d, got %d", maxPage, first)
	}
	var cur *cursor
	if after != "" {
		c, err := parseCursor(after)
		if err != nil {
			return nil, models.InvalidInput("after", "after is not a cursor of this log: pass an edge's cursor or endCursor")
		}
		cur = &c
	}
	rows, err := findEntries(ctx, s.db, column, value, cur, first+1)
	if err != nil {
		return nil, err
	}
	conn := &models.AuditConnection{PageInfo: models.PageInfo{HasNextPage: len(rows) > first}}
	if len(rows) > first {
		rows = rows[:first]
	}
	for _, e := range rows {
		conn.Edges = append(conn.Edges, &models.AuditEdge{Cursor: cursor{At: e.At, ID: e.ID}.String(), Node: e})
	}
	if n := len(conn.Edges); n > 0 {
		end := conn.Edges[n-1].Cursor
		conn.PageInfo.EndCursor = &end
	}
	return conn, nil
}

// cursor is a position in a log ordered by (at, id), both descending.
type cursor struct {
	At time.Time
	ID string
}

func (c cursor) String() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.At.UnixMicro(), 10) + ":" + c.ID))
}

func parseCursor(s string) (cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, err
	}
	at, id, ok := strings.Cut(string(b), ":")
	if !ok || id == "" {
		return cursor{}, fmt.Errorf("cursor %q has no id", s)
	}
	micros, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return cursor{}, err
	}
	return cursor{At: time.UnixMicro(micros).UTC(), ID: id}, nil
}
