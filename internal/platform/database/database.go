// Package database opens Inkgraph's database in either dialect — PostgreSQL through
// pgx, or the embedded SQLite default — and owns what is dialect-specific below the
// stores: connection settings, transactions, constraint errors and migrations.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/inkgraph/inkgraph/models"
)

// Config says which database to open and how to pool connections to it.
type Config struct {
	// URL is a postgres:// (or postgresql://) URL, a sqlite: path, or empty for the
	// embedded SQLite file in DataDir.
	URL     string
	DataDir string

	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// NoPreparedStatements keeps every statement off PostgreSQL's prepared
	// statements, for a pooler that hands a client's transactions to different
	// server connections and loses them (PgBouncer in transaction mode, unless its
	// max_prepared_statements is above 0: the default from 1.24).
	// Otherwise the statements Bind makes are prepared once per connection.
	NoPreparedStatements bool
	// BusyTimeout is how long SQLite waits for a lock before failing.
	BusyTimeout time.Duration
}

// IsPostgres reports whether url names a PostgreSQL server.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// Open opens and pings the database cfg names.
func Open(ctx context.Context, cfg Config) (*bun.DB, error) {
	var db *bun.DB
	var err error
	if IsPostgres(cfg.URL) {
		db, err = openPostgres(cfg)
	} else {
		db, err = openSQLite(cfg)
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("database: ping: %w", err)
	}
	return db, nil
}

func openPostgres(cfg Config) (*bun.DB, error) {
	pgcfg, err := pgx.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("database: parse DATABASE_URL: %w", err)
	}
	// Bun writes argument values into the SQL text, so every query is new to pgx's
	// statement cache: in its default mode that cache thrashes (2.6x slower than raw
	// pgx here); the simple protocol skips it (1.34x). The statements Bind makes keep
	// their value out of the text, and are prepared.
	pgcfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	bound := pgx.QueryExecModeCacheStatement
	if cfg.NoPreparedStatements {
		bound = pgx.QueryExecModeSimpleProtocol
	}
	sqldb := sql.OpenDB(boundConnector{Connector: stdlib.GetConnector(*pgcfg), mode: bound})
	applyPool(sqldb, cfg)
	// pgx cancels a statement with its context: database/sql need not watch it too
	// (detach.go).
	return bun.NewDB(sqldb, pgdialect.New()).WithQueryHook(driverCancels{}), nil
}

func openSQLite(cfg Config) (*bun.DB, error) {
	path := strings.TrimPrefix(strings.TrimPrefix(cfg.URL, "sqlite://"), "sqlite:")
	if path == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("database: data directory: %w", err)
		}
		path = filepath.Join(cfg.DataDir, "inkgraph.db")
	}
	// The file holds password hashes: create it private. SQLite gives its -wal and
	// -shm files the database file's mode.
	if !strings.ContainsAny(path, "?:") {
		if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600); err == nil {
			f.Close()
		}
	}
	busy := cfg.BusyTimeout
	if busy <= 0 {
		busy = 5 * time.Second
	}
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("database: open sqlite %s: %w", path, err)
	}
	// SQLite has one writer at a time; one connection turns lock contention into a
	// queue inside database/sql instead of SQLITE_BUSY errors, and queries here take
	// about 10 µs, so the queue is short.
	sqldb.SetMaxOpenConns(1)
	sqldb.SetConnMaxLifetime(0)
	return bun.NewDB(sqldb, sqlitedialect.New()), nil
}

func applyPool(sqldb *sql.DB, cfg Config) {
	if cfg.MaxOpenConns > 0 {
		sqldb.SetMaxOpenConns(cfg.MaxOpenConns)
	}
	if cfg.MaxIdleConns > 0 {
		sqldb.SetMaxIdleConns(cfg.MaxIdleConns)
	}
	if cfg.ConnMaxLifetime > 0 {
		sqldb.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	}
	if cfg.ConnMaxIdleTime > 0 {
		sqldb.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	}
}

// IsSQLite reports whether db speaks SQLite.
func IsSQLite(db bun.IDB) bool { return db.Dialect().Name() == dialect.SQLite }

// RunInTx runs fn in a transaction: committed when fn returns nil, rolled back
// otherwise. Services own transactions; stores take bun.IDB and run inside them.
func RunInTx(ctx context.Context, db bun.IDB, fn func(ctx context.Context, tx bun.Tx) error) error {
	return db.RunInTx(ctx, nil, fn)
}

// NotFound turns "no row" into the application's NOT_FOUND about what was looked for,
// and wraps any other failure; nil stays nil. Stores call it on a single-row read.
func NotFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &models.Error{Code: models.CodeNotFound, Message: what + " not found", Err: err}
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", what, err)
	}
	return nil
}

// LockUser serialises what a transaction changes of one user's rows with every other
// transaction that locks the same user: on PostgreSQL by the user's account row lock
// (the row exists whatever else the user has), on SQLite by the database's write
// lock, which transactions hold from their first statement (_txlock=immediate). A
// user that does not exist is NOT_FOUND.
func LockUser(ctx context.Context, tx bun.IDB, userID string) error {
	q := tx.NewSelect().Table("users").Column("id").Where("id = ?", userID)
	if tx.Dialect().Name() == dialect.PG {
		q = q.For("UPDATE")
	}
	var id string
	return NotFound(q.Scan(ctx, &id), "user")
}

// IsUniqueViolation reports whether err is a unique-constraint violation in either dialect.
func IsUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
