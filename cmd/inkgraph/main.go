// Command inkgraph serves the Inkgraph GraphQL API and manages its database.
//
//	inkgraph [serve] [--addr :8080] [--data-dir ./data] [--database-url URL]
//	inkgraph migrate up|down|status
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/auth"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/server"
	"github.com/inkgraph/inkgraph/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inkgraph:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  inkgraph [serve] [flags]          serve the GraphQL API (default)
  inkgraph migrate up|down|status   apply, roll back (last group) or list migrations
run 'inkgraph serve -h' for the flags; README.md lists every environment variable.`

// run is the whole program, with its surroundings passed in so tests can run it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (args[0] == "serve" || args[0] == "migrate") {
		cmd, args = args[0], args[1:]
	} else if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	var sub string
	if cmd == "migrate" {
		if len(args) == 0 {
			return errors.New("migrate needs up, down or status\n" + usage)
		}
		sub, args = args[0], args[1:]
	}

	cfg, err := config.Load(args, getenv, stdout)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	logger := logging.New(stdout, cfg.LogLevel)

	db, err := database.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	ms, err := migrations.New()
	if err != nil {
		return err
	}
	migrator := database.NewMigrator(db, ms)

	if cmd == "migrate" {
		return migrate(ctx, migrator, sub, stdout)
	}
	return serve(ctx, cfg, logger, db, migrator)
}

func migrate(ctx context.Context, m *database.Migrator, sub string, stdout io.Writer) error {
	switch sub {
	case "up":
		names, err := m.Up(ctx)
		for _, n := range names {
			fmt.Fprintln(stdout, "applied", n)
		}
		if err == nil && len(names) == 0 {
			fmt.Fprintln(stdout, "nothing to apply: the database is current")
		}
		return err
	case "down":
		names, err := m.Down(ctx)
		for _, n := range names {
			fmt.Fprintln(stdout, "rolled back", n)
		}
		if err == nil && len(names) == 0 {
			fmt.Fprintln(stdout, "nothing to roll back")
		}
		return err
	case "status":
		status, err := m.Status(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "MIGRATION\tSTATUS\tGROUP")
		for _, s := range status {
			state := "pending"
			if s.Applied {
				state = "applied"
			}
			fmt.Fprintf(tw, "%s_%s\t%s\t%d\n", s.Name, s.Comment, state, s.GroupID)
		}
		return tw.Flush()
	default:
		return fmt.Errorf("unknown migrate command %q: want up, down or status", sub)
	}
}

func serve(ctx context.Context, cfg config.Config, logger *slog.Logger, db *bun.DB, migrator *database.Migrator) error {
	if err := cfg.EnsureSecrets(logger); err != nil {
		return err
	}
	if cfg.AutoMigrate {
		names, err := migrator.Up(ctx)
		if err != nil {
			return fmt.Errorf("migrate at start: %w", err)
		}
		if len(names) > 0 {
			logger.Info("applied migrations", "migrations", names)
		}
	}

	var bus events.Bus
	if database.IsPostgres(cfg.Database.URL) {
		pg, err := events.NewPostgres(ctx, cfg.Database.URL, logger)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		bus = pg
	} else {
		bus = events.NewMemory(logger)
	}
	defer bus.Close()

	accounts, err := auth.NewService(db, auth.Config{
		Tokens: auth.TokenConfig{
			Secret: cfg.JWTSecret, Issuer: cfg.JWTIssuer, Audience: cfg.JWTAudience, TTL: cfg.AccessTokenTTL,
		},
		RefreshTTL: cfg.RefreshTokenTTL,
		BcryptCost: cfg.BcryptCost,
		ReuseGrace: 2 * time.Second,
	}, bus, logger, time.Now)
	if err != nil {
		return err
	}

	srv := server.New(server.Deps{
		Config:   cfg,
		Logger:   logger,
		Accounts: accounts,
		Ready: func(ctx context.Context) error {
			if err := db.PingContext(ctx); err != nil {
				return fmt.Errorf("database unreachable: %w", err)
			}
			pending, err := migrator.Pending(ctx)
			if err != nil {
				return fmt.Errorf("migrations unknown: %w", err)
			}
			if pending > 0 {
				return fmt.Errorf("%d migrations pending: run 'inkgraph migrate up'", pending)
			}
			return nil
		},
	})
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	return srv.Serve(ctx, ln)
}
