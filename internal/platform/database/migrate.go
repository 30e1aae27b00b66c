package database

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"
)

// Migrator applies the embedded migrations, one process at a time.
type Migrator struct {
	db    *bun.DB
	m     *migrate.Migrator
	drops map[string][]string
}

// MigratorOption configures a Migrator.
type MigratorOption func(*Migrator)

// WithDrops declares, by migration name, the tables each down migration drops (see
// migrations.Drops). A rollback counts their rows first. Of a migration it has no
// declaration for, the migrator assumes the worst: that it drops every table.
func WithDrops(drops map[string][]string) MigratorOption {
	return func(m *Migrator) { m.drops = drops }
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
//
// A migration is marked applied once its up has committed, not before it runs (bun's
// default), as Rollback marks one unapplied after its down: so "nothing pending"
// means every migration's changes are in the database, which Up's unlocked check and
// readiness rely on, and a migration that failed is still pending and runs again. A
// process that dies between a migration's commit and its mark leaves it pending too:
// its next run fails (its tables exist) until the mark is written by hand, loudly,
// where marking first left a migration that never ran recorded as applied.
func NewMigrator(db *bun.DB, migrations *migrate.Migrations, opts ...MigratorOption) *Migrator {
	m := &Migrator{db: db, m: migrate.NewMigrator(db, migrations, migrate.WithMarkAppliedOnSuccess(true))}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Up applies every pending migration and returns the names of those it applied: on
// an error, those before the one that failed, which is still pending.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	// Most starts find nothing to apply, and a read says so without the lock (on
	// SQLite two write transactions, each synced to disk). It can: a migration is
	// marked applied only once it has committed, so while another process is still
	// applying one, it is pending here too. What the read cannot settle (no
	// bookkeeping table yet, migrations pending) takes the lock and looks again.
	if n, err := m.Pending(ctx); err == nil && n == 0 {
		return nil, nil
	}
	var names []string
	err := m.locked(ctx, func(ctx context.Context) error {
		group, err := m.m.Migrate(ctx)
		if group != nil {
			applied := group.Migrations
			if err != nil && len(applied) > 0 {
				// bun's group ends with the migration that failed (its up, or the
				// mark after it), which is not recorded.
				applied = applied[:len(applied)-1]
			}
			for _, mig := range applied {
				names = append(names, mig.String())
			}
		}
		return err
	})
	return names, err
}

// RollbackOptions says how far to roll back.
type RollbackOptions struct {
	// Steps is how many of the latest applied migrations to roll back; 0 means one.
	Steps int
	// To rolls back every migration applied after this one (by name, with or without
	// its comment), which stays applied. It excludes Steps.
	To string
	// Force drops tables that hold rows. Without it such a rollback is refused.
	Force bool
}

// TableRows is a table a rollback would drop and how many rows it holds.
type TableRows struct {
	Table string
	Rows  int64
}

// DataLossError refuses a rollback that would drop tables holding rows.
type DataLossError struct {
	Migrations []string
	Tables     []TableRows // only those holding rows
}

func (e *DataLossError) Error() string {
	tables := make([]string, len(e.Tables))
	for i, t := range e.Tables {
		tables[i] = fmt.Sprintf("%s (%d rows)", t.Table, t.Rows)
	}
	return fmt.Sprintf("refusing to roll back %s: it would drop %s; back them up, then confirm with --force",
		strings.Join(e.Migrations, ", "), strings.Join(tables, ", "))
}

// Down rolls back the last applied migration, refusing if it would drop rows.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	return m.Rollback(ctx, RollbackOptions{})
}

// Rollback rolls back applied migrations one at a time, newest first, and returns
// their names. It counts the rows of every table the chosen migrations drop before
// running any of them: unless opts.Force, tables holding rows refuse the whole
// rollback with a *DataLossError and nothing changes. Groups are ignored: `up` on a
// fresh install applies every migration as one group, and rolling a group back was
// how a whole database went at once.
func (m *Migrator) Rollback(ctx context.Context, opts RollbackOptions) ([]string, error) {
	if opts.To != "" && opts.Steps != 0 {
		return nil, errors.New("migrate: roll back either a number of migrations or to a migration, not both")
	}
	if opts.Steps < 0 {
		return nil, fmt.Errorf("migrate: cannot roll back %d migrations", opts.Steps)
	}
	var names []string
	err := m.locked(ctx, func(ctx context.Context) error {
		ms, err := m.m.MigrationsWithStatus(ctx)
		if err != nil {
			return err
		}
		targets, err := chooseRollback(ms.Applied(), opts)
		if err != nil {
			return err
		}
		if !opts.Force {
			if err := m.refuseDataLoss(ctx, targets); err != nil {
				return err
			}
		}
		for i := range targets {
			mig := &targets[i]
			if mig.Down != nil {
				if err := mig.Down(ctx, m.m, mig); err != nil {
					return fmt.Errorf("%s: down: %w", mig, err)
				}
			}
			if err := m.m.MarkUnapplied(ctx, mig); err != nil {
				return fmt.Errorf("%s: mark unapplied: %w", mig, err)
			}
			names = append(names, mig.String())
		}
		return nil
	})
	return names, err
}

// chooseRollback picks from applied (newest first) the migrations opts names.
func chooseRollback(applied migrate.MigrationSlice, opts RollbackOptions) (migrate.MigrationSlice, error) {
	if opts.To == "" {
		return applied[:min(max(opts.Steps, 1), len(applied))], nil
	}
	i := slices.IndexFunc(applied, func(mig migrate.Migration) bool {
		return mig.Name == opts.To || mig.String() == opts.To
	})
	if i < 0 {
		return nil, fmt.Errorf("migrate: %q is not an applied migration", opts.To)
	}
	return applied[:i], nil
}

// refuseDataLoss counts the rows of the tables the migrations drop and refuses if any
// holds one.
func (m *Migrator) refuseDataLoss(ctx context.Context, targets migrate.MigrationSlice) error {
	existing, err := Tables(ctx, m.db)
	if err != nil {
		return err
	}
	var drops, names []string
	for _, mig := range targets {
		names = append(names, mig.String())
		declared, ok := m.drops[mig.Name]
		if !ok {
			declared = existing // unknown: assume the worst
		}
		drops = append(drops, declared...)
	}
	e := &DataLossError{Migrations: names}
	seen := map[string]bool{}
	for _, t := range drops {
		if seen[t] || !slices.Contains(existing, t) || t == bunMigrations || t == bunMigrationLocks {
			continue
		}
		seen[t] = true
		n, err := m.db.NewSelect().Table(t).Count(ctx)
		if err != nil {
			return fmt.Errorf("migrate: count rows of %s: %w", t, err)
		}
		if n > 0 {
			e.Tables = append(e.Tables, TableRows{Table: t, Rows: n})
		}
	}
	if len(e.Tables) > 0 {
		return e
	}
	return nil
}

// bun's bookkeeping tables, which no migration drops.
const (
	bunMigrations     = "bun_migrations"
	bunMigrationLocks = "bun_migration_locks"
)

// Tables lists the tables of the database (on PostgreSQL, of the current schema).
func Tables(ctx context.Context, db bun.IDB) ([]string, error) {
	// A full-text index's virtual table and its shadow tables are derived from
	// ordinary tables, and go with them: they are not listed.
	q := "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	if !IsSQLite(db) {
		q = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
	}
	var tables []string
	if err := db.NewRaw(q).Scan(ctx, &tables); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return tables, nil
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
