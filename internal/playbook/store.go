package playbook

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Every read and write of custom_playbooks here is by the space that owns the rows
// (user_id: a user's ID, or a team's shared space's): another space's playbook is
// never found.

// customRow is a custom playbook as stored; spec is the plan as JSON (see spec).
type customRow struct {
	bun.BaseModel `bun:"table:custom_playbooks"`

	ID        string    `bun:"id,pk"`
	UserID    string    `bun:"user_id"`
	Name      string    `bun:"name"`
	Spec      string    `bun:"spec"`
	CreatedBy *string   `bun:"created_by"`
	CreatedAt time.Time `bun:"created_at"`
	UpdatedAt time.Time `bun:"updated_at"`
}

func (r *customRow) utc() *customRow {
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return r
}

// findCustom returns the space's playbook id: NOT_FOUND when the space has none
// of that ID.
func findCustom(ctx context.Context, db bun.IDB, space, id string) (*customRow, error) {
	r := new(customRow)
	err := db.NewSelect().Model(r).Where("id = ? AND user_id = ?", id, space).Scan(ctx)
	if err := database.NotFound(err, "playbook"); err != nil {
		return nil, err
	}
	return r.utc(), nil
}

// findCustoms returns the space's playbooks by name.
func findCustoms(ctx context.Context, db bun.IDB, space string) ([]*customRow, error) {
	var rows []*customRow
	if err := db.NewSelect().Model(&rows).Where("user_id = ?", space).Order("name", "id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("find custom playbooks: %w", err)
	}
	for _, r := range rows {
		r.utc()
	}
	return rows, nil
}

// countCustoms counts the space's playbooks.
func countCustoms(ctx context.Context, db bun.IDB, space string) (int, error) {
	n, err := db.NewSelect().Model((*customRow)(nil)).Where("user_id = ?", space).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count custom playbooks: %w", err)
	}
	return int(n), nil
}

// nameTaken says whether another playbook of the space than id has the name.
func nameTaken(ctx context.Context, db bun.IDB, space, name, id string) (bool, error) {
	ok, err := db.NewSelect().Model((*customRow)(nil)).
		Where("user_id = ? AND name = ? AND id <> ?", space, name, id).Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("find custom playbook name: %w", err)
	}
	return ok, nil
}

func insertCustom(ctx context.Context, db bun.IDB, r *customRow) error {
	if _, err := db.NewInsert().Model(r).Exec(ctx); err != nil {
		return fmt.Errorf("insert custom playbook: %w", err)
	}
	return nil
}

// updateCustom replaces the name and spec of the space's playbook r.ID: NOT_FOUND
// (field input.id) when the space has none of that ID.
func updateCustom(ctx context.Context, db bun.IDB, r *customRow) error {
	res, err := db.NewUpdate().Model(r).Column("name", "spec", "updated_at").
		Where("id = ? AND user_id = ?", r.ID, r.UserID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("update custom playbook: %w", err)
	}
	return oneRow(res, "input.id", r.ID)
}

// deleteCustom removes the space's playbook id: NOT_FOUND when the space has none
// of that ID.
func deleteCustom(ctx context.Context, db bun.IDB, space, id string) error {
	res, err := db.NewDelete().Model((*customRow)(nil)).Where("id = ? AND user_id = ?", id, space).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete custom playbook: %w", err)
	}
	return oneRow(res, "", id)
}

// oneRow says NOT_FOUND (on field) unless res changed exactly one row.
func oneRow(res sql.Result, field, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("custom playbook rows affected: %w", err)
	}
	if n != 1 {
		return &models.Error{Code: models.CodeNotFound, Field: field, Message: fmt.Sprintf("no custom playbook %q", id)}
	}
	return nil
}
