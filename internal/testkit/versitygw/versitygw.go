// Package versitygw runs the Versity S3 Gateway, a real S3 server, for tests: it
// builds the pinned version from the Go module proxy once into the user's cache
// directory (reused by later runs and shared by test packages running at once) and
// starts it with its posix backend over a temporary directory, on a free loopback
// port, for one test, stopping it when the test ends. Buckets are the test's to create.
package versitygw

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const (
	// Module, Package and Version pin the versitygw the tests run against.
	Module  = "github.com/versity/versitygw"
	Package = Module + "/cmd/versitygw"
	Version = "v1.8.0"

	// AccessKey and SecretKey are the root account's credentials; Region is the
	// gateway's region.
	AccessKey = "inkgraph-test"
	SecretKey = "inkgraph-test-secret-key"
	Region    = "us-east-1"

	buildTimeout = 10 * time.Minute
	startTimeout = 30 * time.Second
	startTries   = 3
)

// Server is a running versitygw.
type Server struct {
	// URL is its S3 endpoint, http://127.0.0.1:<port>; address buckets path-style.
	URL string
	// Dir is the posix backend's root: one directory per bucket.
	Dir string
}

// Start builds versitygw if needed and runs it for the test, or skips the test when
// it cannot (fails it under REQUIRE_SERVICES=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testkit.Unavailable(t, "versitygw", err)
		return nil
	}
	dir := t.TempDir()
	var errs []error
	// The port is picked free and then handed over, so another process may take it
	// meanwhile: try again on a new one.
	for range startTries {
		srv, err := start(t, bin, dir)
		if err == nil {
			return srv
		}
		errs = append(errs, err)
	}
	testkit.Unavailable(t, "versitygw", errors.Join(errs...))
	return nil
}

// Binary returns the path of the pinned versitygw, built from the module proxy once
// (testkit.GoTool).
func Binary() (string, error) { return testkit.GoTool(Package, Version, buildTimeout) }

// start runs bin on a free loopback port, waits for its banner and then for it to
// answer.
func start(t testing.TB, bin, dir string) (*Server, error) {
	addr, err := testkit.FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY=")
	listening := make(chan struct{}, 1)
	p, err := testkit.StartProcess(cmd, func(line string) {
		if strings.Contains(line, "http://"+addr) {
			select {
			case listening <- struct{}{}:
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	select {
	case <-listening:
	case <-p.Exited:
		return nil, fmt.Errorf("versitygw exited before listening on %s:\n%s", addr, p.Logs.String())
	case <-time.After(startTimeout):
		p.Stop()
		return nil, fmt.Errorf("versitygw did not listen on %s within %s:\n%s", addr, startTimeout, p.Logs.String())
	}
	srv := &Server{URL: "http://" + addr, Dir: dir}
	if err := srv.ready(p.Exited); err != nil {
		p.Stop()
		return nil, fmt.Errorf("versitygw at %s does not answer: %w\n%s", srv.URL, err, p.Logs.String())
	}
	t.Cleanup(p.Stop)
	return srv, nil
}

// ready waits until the gateway answers an anonymous request (any S3 server says
// 403 to it). It prints its banner just before it listens, so the first attempts may
// be refused; it gives up when the process exits or startTimeout passes.
func (s *Server) ready(exited <-chan struct{}) error {
	return testkit.WaitReady(exited, startTimeout, 20*time.Millisecond, s.ask)
}

func (s *Server) ask(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.Header.Get("Server") != "VERSITYGW" {
		return fmt.Errorf("GET /: not versitygw (%s, Server %q)", resp.Status, resp.Header.Get("Server"))
	}
	return nil
}
