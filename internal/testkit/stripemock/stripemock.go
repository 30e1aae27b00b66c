// Package stripemock runs Stripe's official API mock, stripe-mock, for tests: it builds
// the pinned version from the Go module proxy once into the user's cache directory
// (reused by later runs and shared by test packages running at once), starts it on a
// free loopback port for one test and stops it when the test ends. Recorder captures
// what a client sent, since stripe-mock is stateless and answers from fixtures.
package stripemock

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const (
	// Module and Version pin the stripe-mock the tests run against.
	Module  = "github.com/stripe/stripe-mock"
	Version = "v0.203.0"

	// SecretKey is a test-mode key stripe-mock accepts (it checks only the shape).
	SecretKey = "sk_test_inkgraph"

	buildTimeout = 5 * time.Minute
	startTimeout = 30 * time.Second
)

// Server is a running stripe-mock.
type Server struct {
	// URL is its HTTP base URL, http://127.0.0.1:<port>, for stripe-go's BackendConfig.URL.
	URL string
}

// Start builds stripe-mock if needed and runs it for the test, or skips the test when
// it cannot (fails it under REQUIRE_SERVICES=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testkit.Unavailable(t, "stripe-mock", err)
		return nil
	}
	srv, err := start(t, bin)
	if err != nil {
		testkit.Unavailable(t, "stripe-mock", err)
		return nil
	}
	return srv
}

// Binary returns the path of the pinned stripe-mock, built from the module proxy once
// (testkit.GoTool).
func Binary() (string, error) { return testkit.GoTool(Module, Version, buildTimeout) }

const listening = "Listening for HTTP at address: "

// start runs bin on loopback ports the system picks (HTTPS is bound too, also on
// loopback, because stripe-mock would otherwise open it on every interface), reads
// the HTTP address it prints and waits until it answers.
func start(t testing.TB, bin string) (*Server, error) {
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:0", "-https-addr", "127.0.0.1:0")
	addrs := make(chan string, 1)
	p, err := testkit.StartProcess(cmd, func(line string) {
		if addr, ok := strings.CutPrefix(line, listening); ok {
			select {
			case addrs <- strings.TrimSpace(addr):
			default:
			}
		}
	})
	if err != nil {
		return nil, err
	}
	t.Cleanup(p.Stop)
	logs, exited := p.Logs, p.Exited

	var addr string
	select {
	case addr = <-addrs:
	case <-exited:
		return nil, fmt.Errorf("stripe-mock exited before listening:\n%s", logs.String())
	case <-time.After(startTimeout):
		return nil, fmt.Errorf("stripe-mock did not say where it listens within %s:\n%s", startTimeout, logs.String())
	}
	srv := &Server{URL: "http://" + addr}
	if err := srv.ready(); err != nil {
		return nil, fmt.Errorf("stripe-mock at %s does not answer: %w\n%s", srv.URL, err, logs.String())
	}
	return srv, nil
}

// ready makes one request: the listener is open before stripe-mock prints its address,
// so the connection waits in the backlog until the server serves it.
func (s *Server) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/v1/customers/cus_ready", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+SecretKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /v1/customers/cus_ready: %s", resp.Status)
	}
	return nil
}
