// Package oidcop runs a real OpenID provider for tests: the example OP of
// github.com/zitadel/oidc v3 at the version tools/oidcop pins (its exampleop and
// storage packages, under a main that listens on loopback only), built from the Go
// module proxy into Go's build cache the first time, started on a free loopback port
// for one test with the users the test gives, and stopped when the test ends. IDToken
// signs a user in through its login form and returns the ID token it issues; Restart
// starts it again on the same port, which gives it a new signing key (the example
// generates one, with a new key ID, at every start).
package oidcop

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const (
	// Clients the example registers, each a confidential client with the secret
	// ClientSecret: tokens name the client they were asked for as their audience.
	ClientWeb    = "web"
	ClientAPI    = "api"
	ClientSecret = "secret"

	// redirectURI is registered for every client; it is never visited: IDToken
	// reads the token from the redirect's fragment.
	redirectURI = "http://127.0.0.1/callback"

	buildTimeout = 5 * time.Minute
	startTimeout = 30 * time.Second
	startTries   = 3
)

// User is one account of the provider.
type User struct {
	// ID is the subject (sub) of the user's tokens.
	ID            string
	Username      string
	Password      string
	Email         string
	EmailVerified bool
}

// Server is a running OP.
type Server struct {
	// Issuer is its issuer URL, http://localhost:<port>/ (with the trailing slash its
	// tokens' iss has).
	Issuer string
	// Addr is the loopback address it listens on, 127.0.0.1:<port>.
	Addr string

	t     testing.TB
	bin   string
	users string
	port  string

	mu   sync.Mutex
	stop func()
}

// Start builds the OP if needed and runs it for the test with users, or skips the
// test when it cannot (fails it under REQUIRE_SERVICES=1).
func Start(t testing.TB, users ...User) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testkit.Unavailable(t, "zitadel example OP", err)
		return nil
	}
	byID := map[string]map[string]any{}
	for _, u := range users {
		byID[u.ID] = map[string]any{
			"ID": u.ID, "Username": u.Username, "Password": u.Password,
			"Email": u.Email, "EmailVerified": u.EmailVerified, "FirstName": "Test", "LastName": u.ID,
		}
	}
	data, err := json.Marshal(byID)
	if err != nil {
		t.Fatal(err)
	}
	usersFile := filepath.Join(t.TempDir(), "users.json")
	if err := os.WriteFile(usersFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var errs []error
	// The port is picked free and then handed over, so another process may take it
	// meanwhile: try again on a new one.
	for range startTries {
		port, err := freePort()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		srv := &Server{t: t, bin: bin, users: usersFile, port: port,
			Issuer: "http://localhost:" + port + "/", Addr: "127.0.0.1:" + port}
		if err := srv.start(); err != nil {
			errs = append(errs, err)
			continue
		}
		t.Cleanup(srv.Stop)
		return srv
	}
	testkit.Unavailable(t, "zitadel example OP", errors.Join(errs...))
	return nil
}

// Binary returns the path of the pinned example OP: `go tool -n oidcop` in the
// tools/oidcop module.
func Binary() (string, error) { return testkit.ModuleTool("oidcop", buildTimeout) }

func freePort() (string, error) {
	addr, err := testkit.FreeLoopbackAddr()
	if err != nil {
		return "", err
	}
	_, port, err := net.SplitHostPort(addr)
	return port, err
}

// Stop ends the OP (Restart starts it again).
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		s.stop()
		s.stop = nil
	}
}

// Restart stops the OP and starts it again on the same port: it comes back with a
// new signing key under a new key ID, and without its old one, as after a rotation.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if err := s.start(); err != nil {
		s.t.Fatalf("restart the OP: %v", err)
	}
}

// start runs the binary and waits until its discovery document answers.
func (s *Server) start() error {
	// tools/oidcop listens on 127.0.0.1:PORT, a port the system handed out.
	cmd := exec.Command(s.bin)
	cmd.Env = append(os.Environ(), "PORT="+s.port, "USERS_FILE="+s.users, "REDIRECT_URI="+redirectURI)
	p, err := testkit.StartProcess(cmd, nil)
	if err != nil {
		return fmt.Errorf("start the OP: %w", err)
	}
	stop := p.Stop
	if err := testkit.WaitReady(p.Exited, startTimeout, 20*time.Millisecond, s.ask); err != nil {
		stop()
		return fmt.Errorf("the OP at %s does not answer: %w\n%s", s.Issuer, err, p.Logs.String())
	}
	s.mu.Lock()
	s.stop = stop
	s.mu.Unlock()
	return nil
}

// ask reads the discovery document and checks it is this OP's, this start's.
func (s *Server) ask(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.Issuer+".well-known/openid-configuration", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer string `json:"issuer"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return fmt.Errorf("discovery: %s: %w", resp.Status, err)
	}
	if doc.Issuer != s.Issuer {
		return fmt.Errorf("discovery names the issuer %q, want %q", doc.Issuer, s.Issuer)
	}
	return nil
}

// IDToken signs user in at the OP for client (ClientWeb or ClientAPI) and returns the
// ID token it issues: the implicit flow (response_type=id_token) driven through the
// OP's login form by a client with a cookie jar, because the example OP puts the
// email claims in an ID token only when no access token comes with it (its code flow
// leaves them to the userinfo endpoint).
func (s *Server) IDToken(client string, user User) string {
	s.t.Helper()
	tok, err := s.idToken(client, user)
	if err != nil {
		s.t.Fatalf("get an ID token from the OP: %v", err)
	}
	return tok
}

func (s *Server) idToken(client string, user User) (string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return "", err
	}
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	q := url.Values{
		"client_id": {client}, "redirect_uri": {redirectURI}, "response_type": {"id_token"},
		"scope": {"openid email profile"}, "nonce": {"n-" + user.ID}, "state": {"s"},
	}
	loc, err := redirect(hc, http.MethodGet, s.Issuer+"auth?"+q.Encode(), nil)
	if err != nil {
		return "", fmt.Errorf("authorize: %w", err)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	id := u.Query().Get("authRequestID")
	if id == "" {
		return "", fmt.Errorf("authorize redirected to %s, not the login form", loc)
	}
	form := url.Values{"username": {user.Username}, "password": {user.Password}, "id": {id}}
	loc, err = redirect(hc, http.MethodPost, s.Issuer+"login/username", form)
	if err != nil {
		return "", fmt.Errorf("log in: %w", err)
	}
	loc, err = redirect(hc, http.MethodGet, s.resolve(loc), nil)
	if err != nil {
		return "", fmt.Errorf("callback: %w", err)
	}
	u, err = url.Parse(loc)
	if err != nil {
		return "", err
	}
	fragment, err := url.ParseQuery(u.Fragment)
	if err != nil {
		return "", err
	}
	if tok := fragment.Get("id_token"); tok != "" {
		return tok, nil
	}
	return "", fmt.Errorf("the OP redirected to %s without an ID token", loc)
}

// resolve makes a Location relative to the OP absolute.
func (s *Server) resolve(loc string) string {
	if strings.HasPrefix(loc, "/") {
		return strings.TrimSuffix(s.Issuer, "/") + loc
	}
	return loc
}

// redirect sends a request and returns the Location of its redirect.
func redirect(hc *http.Client, method, target string, form url.Values) (string, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, target, body)
	if err != nil {
		return "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return "", fmt.Errorf("%s %s: %s, no redirect: %s", method, target, resp.Status, page)
	}
	return loc, nil
}
