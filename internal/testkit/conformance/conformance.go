// Package conformance runs the node scripts in internal/testkit/testdata/conformance
// (the graphql-http audit suite and other protocol checkers) from Go tests.
//
// The scripts need node on PATH and the pinned npm packages installed in that folder
// (npm ci there). Without them the tests skip, or fail under REQUIRE_SERVICES=1.
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// auditTimeout bounds a whole audit run; the suite sends about sixty small requests.
const auditTimeout = 2 * time.Minute

// waitDelay bounds how long a killed node process may keep its output pipes open.
const waitDelay = 5 * time.Second

// NodeDir returns the absolute path of the folder holding the node scripts and their
// node_modules. It skips the test (fails under REQUIRE_SERVICES=1) when node is not on
// PATH or the packages are not installed.
func NodeDir(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("conformance: cannot locate the source file to find the node scripts")
	}
	dir, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", "testdata", "conformance"))
	if err != nil {
		t.Fatalf("conformance: %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		testkit.Unavailable(t, "node conformance packages", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		testkit.Unavailable(t, "node conformance packages", errors.New("run npm ci in "+dir+": "+err.Error()))
	}
	return dir
}

// Node returns a command running script (a file in NodeDir) with node, with the working
// directory set to NodeDir so the script resolves its pinned packages. ctx kills it.
func Node(t testing.TB, ctx context.Context, script string, args ...string) *exec.Cmd {
	t.Helper()
	dir := NodeDir(t)
	if _, err := os.Stat(filepath.Join(dir, script)); err != nil {
		t.Fatalf("conformance: script %s: %v", script, err)
	}
	cmd := exec.CommandContext(ctx, "node", append([]string{script}, args...)...)
	cmd.Dir = dir
	cmd.WaitDelay = waitDelay
	return cmd
}

// AuditReport is what audit.mjs prints: counts per audit status and every result.
type AuditReport struct {
	OK      int           `json:"ok"`
	Notice  int           `json:"notice"` // failed MAY audits
	Warn    int           `json:"warn"`   // failed SHOULD audits
	Error   int           `json:"error"`  // failed MUST audits
	Results []AuditResult `json:"results"`
}

// AuditResult is one audit of the graphql-http suite.
type AuditResult struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"`           // ok, notice, warn or error
	Reason string `json:"reason,omitempty"` // why it failed; empty when ok
}

// Failed returns the results whose status is not ok.
func (r AuditReport) Failed() []AuditResult {
	var failed []AuditResult
	for _, result := range r.Results {
		if result.Status != "ok" {
			failed = append(failed, result)
		}
	}
	return failed
}

// RunAudit runs the graphql-http server audit suite against the GraphQL endpoint at url
// and returns its report. It fails the test if the suite could not run; judging the
// report is up to the caller.
func RunAudit(t testing.TB, url string) AuditReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), auditTimeout)
	defer cancel()

	var stdout, stderr bytes.Buffer
	cmd := Node(t, ctx, "audit.mjs", url)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("conformance: audit.mjs %s: %v\nstderr:\n%s", url, err, stderr.String())
	}

	var report AuditReport
	line := lastLine(stdout.String())
	if err := json.Unmarshal([]byte(line), &report); err != nil {
		t.Fatalf("conformance: audit.mjs printed no report (%v)\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if len(report.Results) == 0 {
		t.Fatalf("conformance: audit.mjs ran no audits\nstdout:\n%s", stdout.String())
	}
	return report
}

// lastLine returns the last non-blank line: the report is printed last, so anything a
// dependency logs before it is ignored.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
