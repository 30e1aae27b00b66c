package database

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrator applies the embedded migrations, one process at a time.
type Migrator struct {
	db *bun.DB
	m  *migrate.Migrator
}

// MigrationStatus is one migration and whether it is applied.
type MigrationStatus struct {
	Name      string
	Comment   string
	Applied   bool
	GroupID   int64
	AppliedAt time.Time
}

// NewMigrator returns a migrator of db over migrations.
func NewMigrator(db *bun.DB, migrations *migrate.Migrations) *Migrator {
	return &Migrator{db: db, m: migrate.NewMigrator(db, migrations)}
}

// Up applies every pending migration and returns their names.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	var names []string
	err := m.locked(ctx, func(ctx context.Context) error {
		group, err := m.m.Migrate(ctx)
		if group != nil {
			for _, mig := range group.Migrations {
				names = append(names, mig.String())
			}
		}
		return err
	})
	return names, err
}

// Down rolls back the last group of migrations applied together and returns their names.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	var names []string
	err := m.locked(ctx, func(ctx context.Context) error {
		group, err := m.m.Rollback(ctx)
		if group != nil {
			for _, mig := range group.Migrations {
				names = append(names, mig.String())
			}
		}
		return err
	})
	return names, err
}

// Status lists every migration with whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]MigrationStatus, error) {
	var ms migrate.MigrationSlice
	err := m.locked(ctx, func(ctx context.Context) error {
		var err error
		ms, err = m.m.MigrationsWithStatus(ctx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("migrate: status: %w", err)
	}
	out := make([]MigrationStatus, 0, len(ms))
	for _, mig := range ms {
		out = append(out, MigrationStatus{
			Name: mig.Name, Comment: mig.Comment, Applied: mig.IsApplied(),
			GroupID: mig.GroupID, AppliedAt: mig.MigratedAt,
		})
	}
	return out, nil
}

// Pending counts the migrations not yet applied; readiness needs zero. It only reads,
// so it neither creates the bookkeeping tables nor takes the lock.
func (m *Migrator) Pending(ctx context.Context) (int, error) {
	ms, err := m.m.MigrationsWithStatus(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate: status: %w", err)
	}
	return len(ms.Unapplied()), nil
}

// locked runs fn while holding the migration lock: a session-level advisory lock on
// PostgreSQL (released by the server if this process dies), bun's lock row on SQLite.
func (m *Migrator) locked(ctx context.Context, fn func(ctx context.Context) error) error {
	if IsSQLite(m.db) {
		// SQLite serialises the CREATE TABLE IF NOT EXISTS of Init by itself.
		if err := m.m.Init(ctx); err != nil {
			return fmt.Errorf("migrate: init: %w", err)
		}
		return m.lockedSQLite(ctx, fn)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("migrate: lock connection: %w", err)
	}
	defer conn.Close()
	key := lockKey("inkgraph migrations")
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock(?)", key); err != nil {
		return fmt.Errorf("migrate: advisory lock: %w", err)
	}
	defer func() {
		// The lock belongs to the connection's session, so unlock on the same one, with
		// ctx's values but not its cancellation: ctx may already be done.
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(?)", key)
	}()
	// On PostgreSQL two concurrent CREATE TABLE IF NOT EXISTS can both try to create
	// the table, so Init waits for the lock too.
	if err := m.m.Init(ctx); err != nil {
		return fmt.Errorf("migrate: init: %w", err)
	}
	return fn(ctx)
}

func (m *Migrator) lockedSQLite(ctx context.Context, fn func(ctx context.Context) error) error {
	for {
		err := m.m.Lock(ctx)
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("migrate: waiting for the migration lock: %w", errors.Join(ctx.Err(), err))
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer func() { _ = m.m.Unlock(context.WithoutCancel(ctx)) }() // ctx may already be done
	return fn(ctx)
}

func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	return int64(h.Sum64())
}
