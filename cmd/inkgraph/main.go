// Command inkgraph serves the Inkgraph GraphQL API and manages its database.
//
//	inkgraph [serve] [--addr :8080] [--data-dir ./data] [--database-url URL]
//	inkgraph migrate up|status
//	inkgraph migrate down [-n N | --to NAME] [--force]
//	inkgraph keys rotate
//	inkgraph version
//	inkgraph help
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/internal/api"
	"github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/billing"
	"github.com/inkgraph/inkgraph/internal/platform/buildinfo"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/platform/gcfloor"
	"github.com/inkgraph/inkgraph/internal/platform/logging"
	"github.com/inkgraph/inkgraph/internal/platform/metrics"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
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
  inkgraph [serve] [flags]          serve the GraphQL API (the default command)
  inkgraph migrate up|status        apply every pending migration, or list them
  inkgraph migrate down [-n N | --to NAME] [--force]
                                    roll back the last migration (N of them, or those after NAME);
                                    refused if it would drop tables holding rows, unless --force
  inkgraph keys rotate              re-encrypt stored provider keys and conversations with the newest key-ring version
                                    (embedded mode first adds a new version to DATA_DIR/secrets/keyring)
  inkgraph version                  the build: module version, VCS revision and time, Go version
                                    (also --version)
  inkgraph help                     this help (also -h or --help, after any command)

serve, migrate and keys read the settings below; flags go after the command.`

// usageError says what was wrong with the command line, and where the help is.
func usageError(problem string) error {
	return fmt.Errorf("%s\nrun 'inkgraph help' for the commands and every setting", problem)
}

// run is the whole program, with its surroundings passed in so tests can run it.
// Nothing is written, opened or bound before the command line and the whole
// configuration are known to be good.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if wantsHelp(args) {
		return writeHelp(stdout)
	}
	cmd := "serve"
	if len(args) > 0 {
		switch args[0] {
		case "serve", "migrate", "keys", "version":
			cmd, args = args[0], args[1:]
		case "--version", "-version":
			cmd, args = "version", args[1:]
		}
	}
	var sub string
	var rollback database.RollbackOptions
	switch cmd {
	case "version":
		if len(args) > 0 {
			return usageError("version takes no arguments")
		}
		return writeVersion(stdout, buildinfo.Get())
	case "migrate":
		if len(args) == 0 {
			return usageError("migrate needs up, down or status")
		}
		sub, args = args[0], args[1:]
		switch sub {
		case "up", "status":
		case "down":
			var err error
			if rollback, args, err = rollbackFlags(args); err != nil {
				return usageError(err.Error())
			}
		default:
			return usageError(fmt.Sprintf("unknown migrate command %q: want up, down or status", sub))
		}
	case "keys":
		if len(args) == 0 || args[0] != "rotate" {
			return usageError("keys needs rotate")
		}
		sub, args = args[0], args[1:]
	}

	cfg, err := config.Load(args, getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w\nrun 'inkgraph help' for every setting", err)
	}
	if cmd != "migrate" {
		// Pure checks too: they fail before any file, database or port is touched.
		if err := cfg.CheckSharedSecrets(); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
		if err := app.CheckBlobStore(ctx, cfg); err != nil {
			return fmt.Errorf("configuration: %w", err)
		}
	}
	logger := logging.New(stdout, cfg.LogLevel)
	defer logging.Flush(logger) // the access lines that wait
	if cmd == "serve" {
		return serve(ctx, cfg, getenv, logger)
	}

	if cmd == "keys" {
		if err := cfg.EnsureSecrets(logger); err != nil {
			return err
		}
	}
	db, err := database.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	if cmd == "keys" {
		return rotateKeys(ctx, cfg, logger, db, stdout)
	}
	migrator, err := newMigrator(db)
	if err != nil {
		return err
	}
	return migrate(ctx, migrator, sub, rollback, stdout)
}

// wantsHelp reports whether the command line asks for help: `help` as the command,
// or -h, -help or --help anywhere before a "--".
func wantsHelp(args []string) bool {
	if len(args) > 0 && args[0] == "help" {
		return true
	}
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// writeHelp writes the commands and every setting (config.Vars, the source of
// README.md's table too).
func writeHelp(w io.Writer) error {
	if _, err := fmt.Fprintln(w, usage); err != nil {
		return err
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	return config.WriteSettings(w)
}

// writeVersion writes the build information, one fact a line.
func writeVersion(w io.Writer, bi buildinfo.Info) error {
	var b strings.Builder
	fmt.Fprintf(&b, "inkgraph %s\n", bi.Version)
	if bi.Revision != "" {
		modified := ""
		if bi.Modified {
			modified = " (modified)"
		}
		fmt.Fprintf(&b, "revision %s%s\n", bi.Revision, modified)
	}
	if bi.Time != "" {
		fmt.Fprintf(&b, "time     %s\n", bi.Time)
	}
	fmt.Fprintf(&b, "go       %s\n", bi.GoVersion)
	_, err := io.WriteString(w, b.String())
	return err
}

func newMigrator(db *bun.DB) (*database.Migrator, error) {
	ms, err := migrations.New()
	if err != nil {
		return nil, err
	}
	return database.NewMigrator(db, ms, database.WithDrops(migrations.Drops())), nil
}

// rotateKeys re-encrypts every stored provider key with the ring's newest version.
// With a ring generated into the data directory it first adds a new version there;
// a ring from INKGRAPH_KEYRING is extended by the operator beforehand.
func rotateKeys(ctx context.Context, cfg config.Config, logger *slog.Logger, db *bun.DB, stdout io.Writer) error {
	if cfg.KeyringFile != "" {
		v, err := cfg.AddKeyringVersion()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added key version %d to %s\n", v, cfg.KeyringFile)
	}
	bus := events.NewMemory(logger)
	defer bus.Close()
	svc, err := app.NewServices(ctx, cfg, db, bus, logger)
	if err != nil {
		return err
	}
	defer svc.Close()
	res, err := svc.Wizard.RotateKeys(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "current key version %d: re-encrypted %d provider keys in %d passes", res.Current, res.Resealed, res.Passes)
	if res.Failed > 0 {
		fmt.Fprintf(stdout, ", %d could not be opened (left as they were; see the log)", res.Failed)
	}
	fmt.Fprintln(stdout)
	versions := make([]int, 0, len(res.ByVersion))
	for v := range res.ByVersion {
		versions = append(versions, v)
	}
	slices.Sort(versions)
	for _, v := range versions {
		fmt.Fprintf(stdout, "  version %d: %d keys\n", v, res.ByVersion[v])
	}
	talks, err := svc.Conversations.RotateKeys(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "re-encrypted %d conversation titles and %d messages in %d passes", talks.Titles, talks.Messages, talks.Passes)
	if talks.Failed > 0 {
		fmt.Fprintf(stdout, ", %d could not be opened (left as they were; see the log)", talks.Failed)
	}
	fmt.Fprintln(stdout)
	if res.Failed > 0 || talks.Failed > 0 {
		return fmt.Errorf("%d provider keys and %d conversation values could not be re-encrypted", res.Failed, talks.Failed)
	}
	return nil
}

// rollbackFlags takes migrate down's own flags out of args and leaves the rest (the
// configuration's flags) to config.Load.
func rollbackFlags(args []string) (database.RollbackOptions, []string, error) {
	var o database.RollbackOptions
	var rest []string
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if !strings.HasPrefix(args[i], "-") {
			rest = append(rest, args[i])
			continue
		}
		switch name {
		case "force":
			if hasValue {
				return o, nil, errors.New("--force takes no value")
			}
			o.Force = true
			continue
		case "n", "to":
		default:
			rest = append(rest, args[i])
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				return o, nil, fmt.Errorf("-%s needs a value", name)
			}
			i++
			value = args[i]
		}
		if name == "to" {
			o.To = value
			continue
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 {
			return o, nil, fmt.Errorf("-n wants a number of migrations, at least 1: %q", value)
		}
		o.Steps = n
	}
	if o.To != "" && o.Steps != 0 {
		return o, nil, errors.New("migrate down takes -n or --to, not both")
	}
	return o, rest, nil
}

func migrate(ctx context.Context, m *database.Migrator, sub string, rollback database.RollbackOptions, stdout io.Writer) error {
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
		names, err := m.Rollback(ctx, rollback)
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

// serve opens the listeners first, so that a port in use is reported before anything
// slow runs and clients queue from the first moment (they are answered once the
// server is built); the admin listener answers at once, so a slow start can be
// profiled. Then secrets, the database, migrations, services.
func serve(ctx context.Context, cfg config.Config, getenv func(string) string, logger *slog.Logger) error {
	// The schema is parsed on the other core while this one opens the listeners and
	// the database; api.New waits for it.
	graph.PrepareSchema()
	if getenv("GOGC") == "" { // an operator's GOGC is theirs
		defer gcfloor.Set(cfg.GCHeapFloor)()
	}
	ln, err := listen(ctx, "INKGRAPH_ADDR (--addr)", cfg.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	if cfg.AdminAddr != "" {
		stopAdmin, err := serveAdmin(ctx, cfg.AdminAddr, logger)
		if err != nil {
			return err
		}
		// Deferred first, so it runs last: metrics answer while the server drains.
		defer stopAdmin()
	}
	logger.Info("listening", "addr", ln.Addr().String())

	stopTracing, err := tracing.Setup(ctx, getenv, buildinfo.Get().Version)
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	defer func() {
		// Flushes the spans still buffered, the shutdown's included.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := stopTracing(fctx); err != nil {
			logger.Warn("flush traces", "error", err)
		}
	}()

	if err := cfg.EnsureSecrets(logger); err != nil {
		return err
	}
	db, err := database.Open(ctx, cfg.Database)
	if err != nil {
		return err
	}
	defer db.Close()
	metrics.ObserveDB(db.DB)
	defer metrics.ObserveDB(nil)
	if tracing.Enabled(getenv) {
		// A span per SQL statement; without export, no hook at all (Bun then does
		// nothing per statement for hooks).
		db = database.Traced(db)
	}
	migrator, err := newMigrator(db)
	if err != nil {
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
		pg, err := events.NewPostgres(ctx, cfg.EventsURL, logger)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		bus = pg
	} else {
		bus = events.NewMemory(logger)
	}
	defer bus.Close()

	svc, err := app.NewServices(ctx, cfg, db, bus, logger)
	if err != nil {
		return err
	}
	defer svc.Close()

	srv := api.New(api.Deps{
		Config:   cfg,
		Logger:   logger,
		Services: svc,
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
	// The sweeps stop with the server, before the services it uses are closed.
	sweepCtx, stopSweep := context.WithCancel(ctx)
	var sweeps sync.WaitGroup
	sweeps.Go(func() { sweepGrace(sweepCtx, svc.Billing, logger) })
	sweeps.Go(func() { sweepBackups(sweepCtx, svc.Backups, cfg.BackupPendingTimeout, logger) })
	defer sweeps.Wait()
	defer stopSweep()
	return srv.Serve(ctx, ln)
}

// listen binds addr, saying which setting chose it when that fails.
func listen(ctx context.Context, setting, addr string) (net.Listener, error) {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return nil, fmt.Errorf("%s: %s is in use by another process (another inkgraph?): stop it or choose another address", setting, addr)
	case err != nil:
		return nil, fmt.Errorf("%s: listen on %s: %w", setting, addr, err)
	}
	return ln, nil
}

// serveAdmin serves api.AdminHandler (metrics, pprof) on addr until stop is called.
func serveAdmin(ctx context.Context, addr string, logger *slog.Logger) (stop func(), err error) {
	ln, err := listen(ctx, "INKGRAPH_ADMIN_ADDR (--admin-addr)", addr)
	if err != nil {
		return nil, err
	}
	hs := &http.Server{
		Handler:           api.AdminHandler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("admin listener stopped", "error", err)
		}
	}()
	logger.Info("admin listener", "addr", ln.Addr().String())
	return func() {
		// A profile being taken may last 30 s: it gets a few, then is cut.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(sctx); err != nil {
			_ = hs.Close()
		}
		<-done
	}, nil
}

// sweepGrace moves subscriptions whose past-due grace has ended to the free tier,
// at start and every five minutes. Reads already treat them as free the moment grace
// ends; the sweep brings the stored tier (and the user's subscribers) along. Every
// instance may run it: a second run finds nothing to do.
func sweepGrace(ctx context.Context, b *billing.Service, logger *slog.Logger) {
	tick := time.NewTicker(5 * time.Minute)
	defer tick.Stop()
	for {
		if n, err := b.ExpireGrace(ctx); err != nil && ctx.Err() == nil {
			logger.ErrorContext(ctx, "expire past-due grace", "error", err)
		} else if n > 0 {
			logger.InfoContext(ctx, "past-due grace ended", "subscriptions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sweepBackups removes backup uploads never completed once the pending timeout has
// passed, at start and every tenth of the timeout (at least a minute). Every instance
// may run it: a second run finds nothing to do.
func sweepBackups(ctx context.Context, b *backup.Service, timeout time.Duration, logger *slog.Logger) {
	tick := time.NewTicker(max(timeout/10, time.Minute))
	defer tick.Stop()
	for {
		if n, err := b.Sweep(ctx); err != nil && ctx.Err() == nil {
			logger.ErrorContext(ctx, "sweep unfinished backup uploads", "error", err)
		} else if n > 0 {
			logger.InfoContext(ctx, "removed unfinished backup uploads", "uploads", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
