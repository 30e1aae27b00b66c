//go:build linux

package main

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/pgbouncer"
)

// The deployment files (Dockerfile, deploy/) are checked here, with what this machine
// has: the binary builds static with CGO_ENABLED=0 and serves its embedded mode from a
// root directory holding nothing else; the Dockerfile's runtime stage, built with
// podman from that binary, runs as its unprivileged user with no shell; the alert
// rules pass their promtool unit tests; the dashboard charts every metric Inkgraph
// declares, in PromQL promtool accepts; nginx accepts its configuration.

// repoRoot is the checkout's root, from this package's directory.
const repoRoot = "../.."

// deployBuildFlags are the Dockerfile's: the image test builds what the image holds.
var deployBuildFlags = []string{"-trimpath", "-tags", "timetzdata", "-ldflags=-s -w"}

// deployBuild builds the command with CGO_ENABLED=0 into dir.
func deployBuild(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "inkgraph")
	args := append(append([]string{"build"}, deployBuildFlags...), "-o", bin, ".")
	cmd := exec.Command("go", args...)
	// The test's own GOFLAGS (-race) and cgo setting say nothing about a release build.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "CGO_ENABLED=0 go build:\n%s", out)
	return bin
}

// requireStatic fails unless bin is an ELF executable with no interpreter and no
// shared library: one that runs where nothing else is.
func requireStatic(t *testing.T, bin string) {
	t.Helper()
	f, err := elf.Open(bin)
	require.NoError(t, err)
	defer f.Close()
	for _, p := range f.Progs {
		require.NotEqual(t, elf.PT_INTERP, p.Type, "a dynamically linked binary names an interpreter")
	}
	libs, err := f.ImportedLibraries()
	require.NoError(t, err)
	require.Empty(t, libs, "no DT_NEEDED entries")
}

func deployFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// deployWaitReady polls GET /readyz until it answers 200, the process ends (exited is
// closed) or a minute passes.
func deployWaitReady(t *testing.T, base string, exited <-chan struct{}, logs fmt.Stringer) {
	t.Helper()
	err := testkit.WaitReady(exited, time.Minute, 50*time.Millisecond, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /readyz: %s", resp.Status)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("%s/readyz never answered 200: %v:\n%s", base, err, logs)
	}
}

// deployGraphQL posts one operation and returns its data; errors fail the test.
func deployGraphQL(t *testing.T, base, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out struct {
		Data   map[string]any    `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	require.NoError(t, json.Unmarshal(raw, &out), string(raw))
	require.Empty(t, out.Errors, string(raw))
	return out.Data
}

// deployExercise registers a user, reads it back with the access token, and scrapes
// the admin listener: what a deployment's smoke test would do.
func deployExercise(t *testing.T, base, admin string) {
	t.Helper()
	data := deployGraphQL(t, base, "", `mutation($e: String!) { register(input: {email: $e, password: "password1"}) { accessToken user { id email } } }`,
		map[string]any{"e": "deploy@example.com"})
	reg := data["register"].(map[string]any)
	me := deployGraphQL(t, base, reg["accessToken"].(string), `{ me { id email tier } }`, nil)["me"].(map[string]any)
	require.Equal(t, reg["user"].(map[string]any)["id"], me["id"])
	require.Equal(t, "deploy@example.com", me["email"])
	require.Equal(t, "FREE", me["tier"])

	resp, err := http.Get("http://" + admin + "/metrics")
	require.NoError(t, err)
	scrape, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(scrape))
	require.Contains(t, string(scrape), "go_goroutines")
}

// TestDeployment builds the binary as the Dockerfile does and runs it where nothing
// else is: in a chroot holding only itself, and in the Dockerfile's runtime image.
func TestDeployment(t *testing.T) {
	t.Parallel()
	bin := deployBuild(t, t.TempDir())

	t.Run("static", func(t *testing.T) {
		requireStatic(t, bin)
	})

	t.Run("empty root", func(t *testing.T) {
		if os.Geteuid() != 0 {
			testkit.Unavailable(t, "chroot", errors.New("needs root"))
			return
		}
		root := t.TempDir()
		require.NoError(t, os.Chmod(root, 0o755))
		copyFile(t, bin, filepath.Join(root, "inkgraph"), 0o755)

		addr, admin := deployFreeAddr(t), deployFreeAddr(t)
		cmd := exec.Command("/inkgraph", "serve")
		cmd.Dir = "/"
		cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root}
		// Nothing from this environment: no PATH, no HOME, no TMPDIR.
		cmd.Env = []string{"INKGRAPH_DATA_DIR=/data", "INKGRAPH_ADDR=" + addr, "INKGRAPH_ADMIN_ADDR=" + admin}
		var logs testkit.SyncBuffer
		cmd.Stdout, cmd.Stderr = &logs, &logs
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Start(); err != nil {
			testkit.Unavailable(t, "chroot", err)
			return
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		t.Cleanup(func() {
			_ = cmd.Process.Kill()
			<-exited
		})

		deployWaitReady(t, "http://"+addr, exited, &logs)
		deployExercise(t, "http://"+addr, admin)

		require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
		select {
		case <-exited:
		case <-time.After(time.Minute):
			t.Fatalf("no exit within a minute of SIGTERM:\n%s", logs.String())
		}
		require.NoError(t, waitErr, "exit status 0 after SIGTERM:\n%s", logs.String())

		// The binary made what it needed inside the root, private.
		for _, f := range []string{"data/inkgraph.db", "data/secrets/jwt.key", "data/secrets/keyring", "data/secrets/backup.key"} {
			fi, err := os.Stat(filepath.Join(root, f))
			require.NoError(t, err, f)
			require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
		}
		for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
			require.True(t, json.Valid([]byte(line)), "every log line is JSON: %q", line)
		}
	})

	t.Run("image", func(t *testing.T) {
		testImage(t, bin)
	})

	t.Run("behind nginx and pgbouncer", func(t *testing.T) {
		testBehindProxy(t, bin)
	})
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, mode))
}

// podman runs podman with args and returns its combined output.
func podman(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "podman", args...).CombinedOutput()
	return string(out), err
}

// podmanRunArgs are the flags a container needs on this kind of machine: its OCI
// runtime is runc (crun refuses the machine's hybrid cgroup layout), and limits set
// below the machine's (the container may not keep the engine's defaults, which are
// higher than this machine allows).
func podmanRunArgs() []string {
	var args []string
	if _, err := exec.LookPath("runc"); err == nil {
		args = append(args, "--runtime", "runc")
	}
	return append(args, "--ulimit=nofile=4096:4096", "--ulimit=nproc=4096:4096")
}

// testImage builds the Dockerfile's runtime stage with podman, its build stage
// replaced by bin and deploy/docker/rootfs.sh's layout (the golang base image cannot be
// pulled here), and runs it: embedded mode as user 65532 in /data, no shell, exit 0 on
// SIGTERM. What it does not prove: that the build stage builds (it needs the golang
// image).
func testImage(t *testing.T, bin string) {
	if _, err := exec.LookPath("podman"); err != nil {
		testkit.Unavailable(t, "podman", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	stage := t.TempDir()
	out := filepath.Join(stage, "out")
	require.NoError(t, os.MkdirAll(out, 0o755))
	copyFile(t, bin, filepath.Join(out, "inkgraph"), 0o755)
	script, err := exec.Command("sh", filepath.Join(repoRoot, "deploy/docker/rootfs.sh"), out).CombinedOutput()
	require.NoError(t, err, string(script))

	tag := "localhost/inkgraph-test:" + testkit.RandomHex(6)
	dockerfile, err := filepath.Abs(filepath.Join(repoRoot, "Dockerfile"))
	require.NoError(t, err)
	// The runtime stage reads nothing from the context: an empty one.
	if out, err := podman(ctx, "build", "--build-context", "build="+stage, "--target", "runtime",
		"-f", dockerfile, "-t", tag, t.TempDir()); err != nil {
		testkit.Unavailable(t, "podman build", fmt.Errorf("%w\n%s", err, out))
		return
	}
	t.Cleanup(func() { _, _ = podman(context.Background(), "rmi", "-f", tag) })

	user, err := podman(ctx, "image", "inspect", "--format", "{{.Config.User}}", tag)
	require.NoError(t, err, user)
	require.Equal(t, "65532:65532", strings.TrimSpace(user), "the image runs as the unprivileged user")

	run := append([]string{"run"}, podmanRunArgs()...)
	shell, err := podman(ctx, append(run, "--rm", "--network", "none", "--entrypoint", "/bin/sh", tag, "-c", "true")...)
	if strings.Contains(shell, "OCI permission denied") || strings.Contains(shell, "cgroups") {
		testkit.Unavailable(t, "podman run", errors.New(shell))
		return
	}
	require.Error(t, err, "the image has no shell: %s", shell)
	require.Contains(t, shell, `"/bin/sh": stat /bin/sh: no such file or directory`)

	addr, admin := deployFreeAddr(t), deployFreeAddr(t)
	name := "inkgraph-test-" + testkit.RandomHex(6)
	started, err := podman(ctx, append(run, "-d", "--name", name, "--network", "host",
		"-e", "INKGRAPH_ADDR="+addr, "-e", "INKGRAPH_ADMIN_ADDR="+admin, tag)...)
	require.NoError(t, err, started)
	t.Cleanup(func() { _, _ = podman(context.Background(), "rm", "-f", "-v", name) })
	logs := podmanLogs{ctx: ctx, name: name}
	deployWaitReady(t, "http://"+addr, nil, logs)
	deployExercise(t, "http://"+addr, admin)

	// Embedded mode wrote as the image's user, in /data.
	if out, err := podman(ctx, "stop", "-t", "30", name); err != nil {
		t.Fatalf("podman stop: %v\n%s", err, out)
	}
	code, err := podman(ctx, "inspect", "--format", "{{.State.ExitCode}}", name)
	require.NoError(t, err, code)
	require.Equal(t, "0", strings.TrimSpace(code), "exit status 0 after SIGTERM:\n%s", logs)
	require.Contains(t, logs.String(), `"msg":"shutting down"`)
	require.Contains(t, logs.String(), "/data/secrets/keyring", "the secrets went to /data")
}

// podmanLogs prints a container's output, for failure messages.
type podmanLogs struct {
	ctx  context.Context
	name string
}

func (l podmanLogs) String() string {
	out, _ := podman(l.ctx, "logs", l.name)
	return out
}

// promtool returns promtool's path, or skips (fails under REQUIRE_SERVICES=1).
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		testkit.Unavailable(t, "promtool (Debian package prometheus)", err)
	}
	return p
}

// TestAlertRules checks deploy/prometheus with promtool: the configuration and rules
// are valid and every alert fires in alerts_test.yml.
func TestAlertRules(t *testing.T) {
	t.Parallel()
	p := promtool(t)
	dir := filepath.Join(repoRoot, "deploy", "prometheus")
	for _, args := range [][]string{
		{"check", "config", "prometheus.yml"},
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
	} {
		cmd := exec.Command(p, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "promtool %s:\n%s", strings.Join(args, " "), out)
	}

	// The readiness probe's module (prometheus.yml's inkgraph-readyz job).
	blackbox, err := exec.LookPath("prometheus-blackbox-exporter")
	if err != nil {
		testkit.Unavailable(t, "prometheus-blackbox-exporter (Debian package)", err)
		return
	}
	out, err := exec.Command(blackbox, "--config.check", "--config.file="+filepath.Join(dir, "blackbox.yml")).CombinedOutput()
	require.NoError(t, err, "blackbox.yml:\n%s", out)
	require.NotContains(t, string(out), "deprecated")

	// Every alert of alerts.yml is exercised by the unit tests.
	rules, err := os.ReadFile(filepath.Join(dir, "alerts.yml"))
	require.NoError(t, err)
	tests, err := os.ReadFile(filepath.Join(dir, "alerts_test.yml"))
	require.NoError(t, err)
	requireDeclared(t, "alerts.yml", string(rules), declaredMetrics(t))
	alerts := regexp.MustCompile(`(?m)^\s+- alert: (\w+)`).FindAllStringSubmatch(string(rules), -1)
	require.NotEmpty(t, alerts)
	for _, a := range alerts {
		require.Regexp(t, `alertname: `+a[1]+`\b`, string(tests), "alerts_test.yml fires %s", a[1])
	}
}

// declaredMetrics lists the inkgraph_* metric names internal/platform/metrics declares,
// read from its source (a vector with no series yet does not show in a scrape).
func declaredMetrics(t *testing.T) []string {
	t.Helper()
	sources, err := filepath.Glob(filepath.Join(repoRoot, "internal", "platform", "metrics", "*.go"))
	require.NoError(t, err)
	var names []string
	for _, s := range sources {
		if strings.HasSuffix(s, "_test.go") {
			continue
		}
		b, err := os.ReadFile(s)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`Name:\s*"(inkgraph_\w+)"`).FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	require.NotEmpty(t, names)
	return names
}

// requireDeclared fails when text uses an inkgraph_* series (a histogram's _bucket,
// _count or _sum included) that no declared metric makes: a typo promtool cannot see.
func requireDeclared(t *testing.T, where, text string, names []string) {
	t.Helper()
	for _, used := range regexp.MustCompile(`inkgraph_\w+`).FindAllString(text, -1) {
		base := used
		for _, suffix := range []string{"_bucket", "_count", "_sum"} {
			if b, ok := strings.CutSuffix(used, suffix); ok && slices.Contains(names, b) {
				base = b
			}
		}
		require.Contains(t, names, base, "%s uses %s, which internal/platform/metrics does not declare", where, used)
	}
}

// TestDashboard checks deploy/grafana/inkgraph.json: it charts every metric that
// internal/platform/metrics declares, and promtool accepts each of its queries.
func TestDashboard(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "grafana", "inkgraph.json"))
	require.NoError(t, err)
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(raw, &dash))
	var exprs []string
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}

	names := declaredMetrics(t)
	all := strings.Join(exprs, "\n")
	for _, n := range names {
		require.True(t, strings.Contains(all, n), "the dashboard charts %s", n)
	}
	requireDeclared(t, "the dashboard", all, names)

	// Grafana's variables replaced by values, every query as a recording rule.
	replacer := strings.NewReplacer("$__rate_interval", "5m", "$__range", "1h", "$job", "inkgraph", "$instance", ".*")
	type rule struct {
		Record string `json:"record"`
		Expr   string `json:"expr"`
	}
	var rs []rule
	for i, e := range exprs {
		rs = append(rs, rule{Record: fmt.Sprintf("dashboard:query%d", i), Expr: replacer.Replace(e)})
	}
	file := filepath.Join(t.TempDir(), "dashboard-rules.json")
	b, err := json.Marshal(map[string]any{"groups": []any{map[string]any{"name": "dashboard", "rules": rs}}})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(file, b, 0o600))
	out, err := exec.Command(promtool(t), "check", "rules", file).CombinedOutput()
	require.NoError(t, err, "promtool rejects a dashboard query:\n%s", out)
}

// TestNginxConfig checks deploy/nginx/nginx.conf with nginx -t, its upstreams pointed
// at loopback (compose's service names resolve only inside compose's network).
func TestNginxConfig(t *testing.T) {
	t.Parallel()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		testkit.Unavailable(t, "nginx (Debian package nginx-light)", err)
		return
	}
	conf, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "nginx", "nginx.conf"))
	require.NoError(t, err)
	text := string(conf)
	for _, want := range []string{"proxy_set_header Upgrade $http_upgrade", "proxy_set_header Connection $connection_upgrade",
		"X-Forwarded-For $proxy_add_x_forwarded_for", "proxy_read_timeout 1h", "proxy_buffering off"} {
		require.Contains(t, text, want)
	}
	dir := t.TempDir()
	text = regexp.MustCompile(`server inkgraph-\d:8080`).ReplaceAllString(text, "server 127.0.0.1:8080")
	text = strings.ReplaceAll(text, "pid /tmp/nginx.pid", "pid "+filepath.Join(dir, "nginx.pid"))
	file := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	out, err := exec.Command(nginx, "-t", "-q", "-c", file, "-e", filepath.Join(dir, "error.log")).CombinedOutput()
	require.NoError(t, err, "nginx -t:\n%s", out)
}

// process is one running inkgraph (or nginx) started by a test.
type process struct {
	cmd    *exec.Cmd
	logs   *testkit.SyncBuffer
	exited chan struct{}
	err    error
}

// startProcess starts bin with args and env in a process group of its own, which is
// killed when the test ends if it still runs (nginx's workers with their master).
func startProcess(t *testing.T, bin string, env []string, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(bin, args...), logs: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A child that outlives the process keeps its output pipe open: stop waiting for it.
	p.cmd.WaitDelay = 5 * time.Second
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	})
	return p
}

// stop sends sig and waits for the exit; a non-zero exit fails the test.
func (p *process) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(sig))
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		t.Fatalf("no exit within a minute of %v:\n%s", sig, p.logs)
	}
	require.NoError(t, p.err, "exit status 0 after %v:\n%s", sig, p.logs)
}

// scrape returns the admin listener's exposition text.
func scrape(t *testing.T, admin string) string {
	t.Helper()
	_, body := get(t, http.DefaultClient, "http://"+admin+"/metrics")
	return body
}

// testBehindProxy runs compose's topology without containers: `inkgraph migrate up` on
// the direct connection, two instances whose queries go through PgBouncer (transaction
// mode) and whose events bus LISTENs directly, and nginx with deploy/nginx/nginx.conf
// (its upstreams and listener pointed at loopback) in front. Through nginx: plain
// requests reach both instances, a WebSocket upgrade passes and its subscription hears
// a sign-out made on the other instance, and X-Forwarded-For names the client because
// INKGRAPH_TRUSTED_PROXIES lists the proxy. Both instances exit 0 on SIGTERM with the
// socket open.
func testBehindProxy(t *testing.T, bin string) {
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		testkit.Unavailable(t, "nginx (Debian package nginx-light)", err)
		return
	}
	direct := testkit.PostgresDatabaseURL(t)
	bouncer := pgbouncer.Start(t)
	shared := t.TempDir()
	common := []string{
		"INKGRAPH_JWT_SECRET=deploy-test-secret-deploy-test-secret!!",
		"INKGRAPH_KEYRING=1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
		"INKGRAPH_BACKUP_SIGNING_KEY=deploy-test-backup-key-deploy-test-backup",
		"INKGRAPH_BACKUP_DIR=" + shared,
		"INKGRAPH_DATA_DIR=" + t.TempDir(),
		"INKGRAPH_BCRYPT_COST=4",
		"INKGRAPH_TRUSTED_PROXIES=127.0.0.1",
	}

	// The one-shot migration, on the direct connection.
	migrate := exec.Command(bin, "migrate", "up")
	migrate.Env = append(slices.Clone(common), "DATABASE_URL="+direct)
	out, err := migrate.CombinedOutput()
	require.NoError(t, err, "migrate up:\n%s", out)

	type instance struct {
		addr, admin string
		proc        *process
	}
	var instances []instance
	for range 2 {
		in := instance{addr: deployFreeAddr(t), admin: deployFreeAddr(t)}
		env := append(slices.Clone(common), "DATABASE_URL="+bouncer.URL(direct), "INKGRAPH_EVENTS_DATABASE_URL="+direct,
			"INKGRAPH_DB_PREPARED_STATEMENTS=false", // as deploy/inkgraph.env.example says behind PgBouncer 1.18
			"INKGRAPH_AUTO_MIGRATE=false", "INKGRAPH_ADDR="+in.addr, "INKGRAPH_ADMIN_ADDR="+in.admin)
		in.proc = startProcess(t, bin, env, "serve")
		instances = append(instances, in)
	}
	for _, in := range instances {
		deployWaitReady(t, "http://"+in.addr, in.proc.exited, in.proc.logs)
	}

	conf, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "nginx", "nginx.conf"))
	require.NoError(t, err)
	dir := t.TempDir()
	proxy := deployFreeAddr(t)
	text := strings.NewReplacer(
		"server inkgraph-1:8080", "server "+instances[0].addr,
		"server inkgraph-2:8080", "server "+instances[1].addr,
		"listen 80;", "listen "+proxy+";",
		"pid /tmp/nginx.pid", "pid "+filepath.Join(dir, "nginx.pid"),
	).Replace(string(conf))
	require.NotContains(t, text, "inkgraph-1:8080")
	file := filepath.Join(dir, "nginx.conf")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o600))
	ngx := startProcess(t, nginx, nil, "-c", file, "-e", filepath.Join(dir, "error.log"), "-g", "daemon off;")
	base := "http://" + proxy
	deployWaitReady(t, base, ngx.exited, ngx.logs)

	// Plain requests through nginx, one claiming a client address: the proxy appends its
	// peer to X-Forwarded-For, and the instance, trusting the proxy, logs the client.
	body, err := json.Marshal(map[string]any{"query": `mutation { register(input: {email: "proxied@example.com", password: "password1"}) { accessToken } }`})
	require.NoError(t, err)
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", "203.0.113.7")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	var reg struct {
		Data struct {
			Register struct{ AccessToken string } `json:"register"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(raw, &reg), string(raw))
	token := reg.Data.Register.AccessToken
	require.NotEmpty(t, token, string(raw))
	require.Eventually(t, func() bool {
		return strings.Contains(instances[0].proc.logs.String()+instances[1].proc.logs.String(), `"client":"203.0.113.7"`)
	}, 10*time.Second, 10*time.Millisecond, "the instance logs the client X-Forwarded-For names")
	login := `mutation { login(input: {email: "proxied@example.com", password: "password1"}) { refreshToken } }`
	for range 4 { // least_conn with idle upstreams: both instances get some
		deployGraphQL(t, base, "", login, nil)
	}
	for _, in := range instances {
		require.Contains(t, scrape(t, in.admin), `inkgraph_graphql_operations_total{code="OK"`, "both instances served requests")
	}
	// The onboarding summary's statements (database.Bind's) through the pooler, on both
	// instances.
	for range 4 {
		got := deployGraphQL(t, base, token, `{ onboarding { progress { currentStep } providerKeys { provider } integrations { kind } personas { id } } }`, nil)
		require.EqualValues(t, 1, got["onboarding"].(map[string]any)["progress"].(map[string]any)["currentStep"])
	}

	// A WebSocket through nginx, on whichever instance it lands.
	dialer := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
	conn, wsResp, err := dialer.Dial("ws://"+proxy+"/graphql", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	require.Equal(t, http.StatusSwitchingProtocols, wsResp.StatusCode)
	require.Equal(t, "graphql-transport-ws", conn.Subprotocol())
	send := func(v any) {
		require.NoError(t, conn.SetWriteDeadline(time.Now().Add(10*time.Second)))
		require.NoError(t, conn.WriteJSON(v))
	}
	type message struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	reads := make(chan message, 16)
	readErr := make(chan error, 1)
	go func() {
		for {
			var m message
			if err := conn.ReadJSON(&m); err != nil {
				readErr <- err
				return
			}
			reads <- m
		}
	}()
	send(map[string]any{"type": "connection_init", "payload": map[string]string{"authorization": "Bearer " + token}})
	select {
	case m := <-reads:
		require.Equal(t, "connection_ack", m.Type, "%s", m.Payload)
	case err := <-readErr:
		t.Fatalf("socket: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no connection_ack")
	}
	send(map[string]any{"id": "account", "type": "subscribe", "payload": map[string]string{
		"query": `subscription { accountEvents { type currentSession } }`}})

	// The instance without the socket signs other sessions out until the socket hears
	// of one: the event crossed instances, over the direct LISTEN connection.
	other := ""
	for _, in := range instances {
		if strings.Contains(scrape(t, in.admin), `inkgraph_websocket_connections{protocol="graphql-transport-ws"} 1`) {
			continue
		}
		other = "http://" + in.addr
	}
	require.NotEmpty(t, other, "one instance holds the socket")
	deadline := time.After(20 * time.Second)
	for heard := false; !heard; {
		refresh := deployGraphQL(t, other, "", login, nil)["login"].(map[string]any)["refreshToken"]
		deployGraphQL(t, other, "", `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`, map[string]any{"t": refresh})
		select {
		case m := <-reads:
			if m.Type == "ping" || m.Type == "pong" {
				continue
			}
			require.Equal(t, "next", m.Type, "%s", m.Payload)
			var got struct { // the first payload carries the limits in extensions too
				Data json.RawMessage `json:"data"`
			}
			require.NoError(t, json.Unmarshal(m.Payload, &got))
			require.JSONEq(t, `{"accountEvents":{"type":"SESSION_REVOKED","currentSession":false}}`, string(got.Data))
			heard = true
		case err := <-readErr:
			t.Fatalf("socket: %v", err)
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatal("the socket never heard the other instance's sign-out")
		}
	}

	// Shutdown with the socket open: both instances exit 0, then nginx.
	for _, in := range instances {
		in.proc.stop(t, syscall.SIGTERM)
	}
	ngx.stop(t, syscall.SIGQUIT)
}

// TestPgBouncerConfig runs PgBouncer on compose's deploy/pgbouncer files (the upstream
// and listener pointed at loopback): they parse, the pool is in transaction mode, and
// clients authenticate with SCRAM against userlist.txt (a wrong password is refused by
// PgBouncer itself; the right one gets through to the server, where compose's role and
// database do not exist on this machine).
func TestPgBouncerConfig(t *testing.T) {
	t.Parallel()
	upstream, err := url.Parse(testkit.PostgresURL(t))
	require.NoError(t, err)
	bin, err := pgbouncer.Binary()
	if err != nil {
		testkit.Unavailable(t, "pgbouncer", err)
		return
	}
	ini, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "pgbouncer", "pgbouncer.ini"))
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o755)) // readable by the user PgBouncer runs as
	copyFile(t, filepath.Join(repoRoot, "deploy", "pgbouncer", "userlist.txt"), filepath.Join(dir, "userlist.txt"), 0o644)
	addr := deployFreeAddr(t)
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	text := strings.NewReplacer(
		"host=postgres port=5432", "host="+upstream.Hostname()+" port="+upstream.Port(),
		"listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1",
		"listen_port = 6432", "listen_port = "+port,
		"auth_file = /etc/pgbouncer/userlist.txt", "auth_file = "+filepath.Join(dir, "userlist.txt"),
	).Replace(string(ini))
	require.Contains(t, text, "pool_mode = transaction")
	text += "unix_socket_dir =\n"
	if os.Geteuid() == 0 {
		text += "user = postgres\n" // PgBouncer refuses to run as root
	}
	file := filepath.Join(dir, "pgbouncer.ini")
	require.NoError(t, os.WriteFile(file, []byte(text), 0o644))
	p := startProcess(t, bin, nil, file)

	connect := func(password string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, "postgres://inkgraph:"+password+"@"+addr+"/inkgraph?sslmode=disable")
		if err == nil {
			_ = conn.Close(ctx)
		}
		return err
	}
	var wrong error
	require.Eventually(t, func() bool {
		wrong = connect("not-the-password")
		return wrong != nil && !strings.Contains(wrong.Error(), "connection refused")
	}, 30*time.Second, 20*time.Millisecond, "PgBouncer listens: %v\n%s", wrong, p.logs)
	require.ErrorContains(t, wrong, "SASL authentication failed", "PgBouncer refuses a wrong password")
	right := connect("inkgraph-dev-password")
	require.Error(t, right, "no such role or database on this machine")
	require.NotContains(t, right.Error(), "authentication failed", "SCRAM with userlist.txt's password passes")
	require.Contains(t, right.Error(), "does not exist", "the server, not PgBouncer, answered")
}

// TestDeployFilesNameRealVariables: every Inkgraph setting the deployment files set or
// mention (compose, the env example, systemd, the Dockerfile) is one Inkgraph reads,
// so a renamed or removed variable cannot live on there, silently ignored.
func TestDeployFilesNameRealVariables(t *testing.T) {
	known := map[string]bool{}
	for _, v := range config.Vars() {
		known[v.Name] = true
	}
	setting := regexp.MustCompile(`\b(?:INKGRAPH|STRIPE|S3|OTEL)_[A-Z0-9_]+\b|\b(?:DATABASE_URL|REDIS_URL)\b`)
	seen := 0
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		if d.IsDir() {
			if rel != "." && rel != "deploy" && !strings.HasPrefix(rel, "deploy"+string(filepath.Separator)) {
				return filepath.SkipDir
			}
			return nil
		}
		if rel != "Dockerfile" && !strings.HasPrefix(rel, "deploy"+string(filepath.Separator)) {
			return nil
		}
		body, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, name := range setting.FindAllString(string(body), -1) {
			seen++
			require.Truef(t, known[name], "%s names %s, which Inkgraph does not read (config.Vars)", rel, name)
		}
		return nil
	})
	require.NoError(t, err)
	// The env example alone sets a dozen: a walk that found none read nothing.
	require.Greater(t, seen, 20, "the deployment files' settings were not found")
}
