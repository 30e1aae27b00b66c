// Package versitygw runs the Versity S3 Gateway, a real S3 server, for tests: it
// builds the pinned version from the Go module proxy once into the user's cache
// directory (reused by later runs and shared by test packages running at once) and
// starts it with its posix backend over a temporary directory, on a free loopback
// port, for one test, stopping it when the test ends. Buckets are the test's to create.
package versitygw

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
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

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// start runs bin on a free loopback port, waits for its banner and then for it to
// answer.
func start(t testing.TB, bin, dir string) (*Server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", addr, "posix", dir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID=", "ROOT_SECRET_ACCESS_KEY=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var logs testkit.SyncBuffer
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan struct{})
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
	}
	listening := make(chan struct{}, 1)
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			_, _ = logs.Write([]byte(line + "\n"))
			if strings.Contains(line, "http://"+addr) {
				select {
				case listening <- struct{}{}:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		_ = cmd.Wait()
	}()

	select {
	case <-listening:
	case <-exited:
		return nil, fmt.Errorf("versitygw exited before listening on %s:\n%s", addr, logs.String())
	case <-time.After(startTimeout):
		stop()
		return nil, fmt.Errorf("versitygw did not listen on %s within %s:\n%s", addr, startTimeout, logs.String())
	}
	srv := &Server{URL: "http://" + addr, Dir: dir}
	if err := srv.ready(exited); err != nil {
		stop()
		return nil, fmt.Errorf("versitygw at %s does not answer: %w\n%s", srv.URL, err, logs.String())
	}
	t.Cleanup(stop)
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
