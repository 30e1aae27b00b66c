// Package pgbouncer runs PgBouncer (the Debian package's binary) for tests: in
// transaction pooling mode, on a free loopback port, in front of the PostgreSQL server
// the tests use, with trust authentication and a temporary configuration, for one
// test, stopping it when the test ends. Every database of that server is reachable
// through it under its own name (a wildcard entry), so a test points it at a database
// of its own (testkit.PostgresDatabaseURL): PgBouncer refuses the search_path startup
// parameter that testkit's per-test schemas rely on.
package pgbouncer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	startTries   = 3
)

// Server is a running PgBouncer.
type Server struct {
	// Addr is its listen address, 127.0.0.1:<port>.
	Addr string
	// upstream is the PostgreSQL URL it pools connections to.
	upstream *url.URL
	logs     *testkit.SyncBuffer
}

// Logs returns what PgBouncer has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// URL returns direct (a URL of the PostgreSQL server this bouncer pools) with its host
// and port replaced by the bouncer's: the same database and user, through the pool.
func (s *Server) URL(direct string) string {
	u, err := url.Parse(direct)
	if err != nil {
		panic(fmt.Sprintf("pgbouncer: parse %q: %v", direct, err))
	}
	u.Host = s.Addr
	return u.String()
}

// AdminURL is the URL of PgBouncer's console (the virtual database "pgbouncer"), where
// SHOW POOLS, SHOW STATS and friends answer. Use the simple protocol there.
func (s *Server) AdminURL() string {
	u := *s.upstream
	u.Host = s.Addr
	u.Path = "/pgbouncer"
	u.RawQuery = "sslmode=disable"
	return u.String()
}

// Start runs PgBouncer in transaction pooling mode in front of testkit.PostgresURL's
// server for the test, or skips the test when it cannot (fails it under
// REQUIRE_SERVICES=1): the binary is missing (apt-get install pgbouncer) or PostgreSQL
// is unreachable.
func Start(t testing.TB) *Server {
	t.Helper()
	upstream, err := url.Parse(testkit.PostgresURL(t))
	if err != nil {
		t.Fatalf("pgbouncer: parse the PostgreSQL URL: %v", err)
	}
	bin, err := Binary()
	if err != nil {
		testkit.Unavailable(t, "pgbouncer", err)
		return nil
	}
	var errs []error
	// The port is picked free and then handed over, so another process may take it
	// meanwhile: try again on a new one.
	for range startTries {
		srv, err := start(t, bin, upstream)
		if err == nil {
			return srv
		}
		errs = append(errs, err)
	}
	testkit.Unavailable(t, "pgbouncer", errors.Join(errs...))
	return nil
}

// Binary returns the path of the pgbouncer binary: on PATH, or where Debian puts it
// (/usr/sbin, not on every user's PATH).
func Binary() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	const debian = "/usr/sbin/pgbouncer"
	if fi, err := os.Stat(debian); err == nil && fi.Mode().IsRegular() {
		return debian, nil
	}
	return "", errors.New("no pgbouncer binary (apt-get install pgbouncer)")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	return port, ln.Close()
}

// runAs is the user PgBouncer switches to when started as root, which it refuses to
// run as: postgres where PostgreSQL is installed, else nobody.
func runAs() string {
	if os.Geteuid() != 0 {
		return ""
	}
	for _, name := range []string{"postgres", "nobody"} {
		if _, err := user.Lookup(name); err == nil {
			return name
		}
	}
	return "nobody"
}

// config is the ini: every database of the upstream server under its own name, trust
// authentication (the user list names the URL's user, as PgBouncer requires even then),
// transaction pooling, no unix socket, logs to stderr.
func config(dir string, port int, upstream *url.URL) (string, error) {
	host, upPort := upstream.Hostname(), upstream.Port()
	if upPort == "" {
		upPort = "5432"
	}
	userName := upstream.User.Username()
	if userName == "" {
		userName = "postgres"
	}
	userlist := filepath.Join(dir, "userlist.txt")
	if err := os.WriteFile(userlist, fmt.Appendf(nil, "%q \"\"\n", userName), 0o644); err != nil {
		return "", err
	}
	ini := fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
pidfile =
logfile =
auth_type = trust
auth_file = %s
admin_users = %s
stats_users = %s
pool_mode = transaction
server_reset_query =
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
`, host, upPort, port, userlist, userName, userName)
	if u := runAs(); u != "" {
		ini += "user = " + u + "\n"
	}
	path := filepath.Join(dir, "pgbouncer.ini")
	return path, os.WriteFile(path, []byte(ini), 0o644)
}

// start runs bin on a free loopback port and waits until a query through it answers.
func start(t testing.TB, bin string, upstream *url.URL) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dir := t.TempDir()
	// Readable by the user PgBouncer switches to.
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, err
	}
	ini, err := config(dir, port, upstream)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, ini)
	logs := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.WaitDelay = stopTimeout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pgbouncer: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	stop := func() {
		// SIGTERM is PgBouncer's immediate shutdown; SIGINT would wait for clients.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	srv := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), upstream: upstream, logs: logs}
	if err := srv.ready(exited); err != nil {
		stop()
		return nil, fmt.Errorf("pgbouncer on %s: %w\n%s", srv.Addr, err, logs.String())
	}
	t.Cleanup(stop)
	return srv, nil
}

// ready waits until a query through the bouncer to the upstream's database answers;
// it gives up when the process exits or startTimeout passes.
func (s *Server) ready(exited <-chan struct{}) error {
	return testkit.WaitReady(exited, startTimeout, 20*time.Millisecond, s.ask)
}

func (s *Server) ask(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.URL(s.upstream.String()))
	if err != nil {
		return err
	}
	cfg.DefaultQueryExecMode = pgx.QueryExecModeSimpleProtocol
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}
