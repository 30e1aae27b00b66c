package testkit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

const (
	// MailpitModule and MailpitVersion pin the SMTP server the mail tests send to.
	MailpitModule  = "github.com/axllent/mailpit"
	MailpitVersion = "v1.33.1"

	mailpitBuildTimeout = 10 * time.Minute
	mailpitStartTimeout = 30 * time.Second
	mailpitStartTries   = 3
)

// MailpitServer is a running mailpit: a real SMTP server that keeps what it receives
// and shows it through its HTTP API.
type MailpitServer struct {
	// SMTPAddr is its SMTP address, 127.0.0.1:<port>.
	SMTPAddr string
	// APIURL is its HTTP base URL, http://127.0.0.1:<port>.
	APIURL string
}

// MailpitMessage is a received message as mailpit's API gives it.
type MailpitMessage struct {
	ID      string `json:"ID"`
	Subject string `json:"Subject"`
	From    struct {
		Name    string `json:"Name"`
		Address string `json:"Address"`
	} `json:"From"`
	To []struct {
		Name    string `json:"Name"`
		Address string `json:"Address"`
	} `json:"To"`
	Text string `json:"Text"`
}

// Mailpit builds the pinned mailpit if needed (GoTool) and runs it for the test on
// free loopback ports, with the extra command-line args (STARTTLS certificates,
// authentication), or skips the test when it cannot (fails it under
// REQUIRE_SERVICES=1). Its messages live in the test's temporary directory.
func Mailpit(t testing.TB, args ...string) *MailpitServer {
	t.Helper()
	bin, err := GoTool(MailpitModule, MailpitVersion, mailpitBuildTimeout)
	if err != nil {
		Unavailable(t, "mailpit", err)
		return nil
	}
	var errs []error
	// Ports are picked free and then handed over, so another process may take one
	// meanwhile: try again on new ones.
	for range mailpitStartTries {
		srv, err := startMailpit(t, bin, args)
		if err == nil {
			return srv
		}
		errs = append(errs, err)
	}
	Unavailable(t, "mailpit", errors.Join(errs...))
	return nil
}

func startMailpit(t testing.TB, bin string, extra []string) (*MailpitServer, error) {
	smtpAddr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := FreeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"--smtp", smtpAddr, "--listen", httpAddr, "--database", filepath.Join(t.TempDir(), "mailpit.db"),
		"--smtp-disable-rdns", "--disable-version-check"}, extra...)
	p, err := StartProcess(exec.Command(bin, args...), nil)
	if err != nil {
		return nil, err
	}
	srv := &MailpitServer{SMTPAddr: smtpAddr, APIURL: "http://" + httpAddr}
	// Ready when the API answers and the SMTP port greets.
	err = WaitReady(p.Exited, mailpitStartTimeout, 20*time.Millisecond, func(ctx context.Context) error {
		if err := srv.get(ctx, "/readyz", nil); err != nil {
			return err
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", smtpAddr)
		if err != nil {
			return err
		}
		return c.Close()
	})
	if err != nil {
		p.Stop()
		return nil, fmt.Errorf("mailpit on %s and %s: %w\n%s", smtpAddr, httpAddr, err, p.Logs.String())
	}
	t.Cleanup(p.Stop)
	return srv, nil
}

func (m *MailpitServer) get(ctx context.Context, path string, into any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, m.APIURL+path, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(body, into)
}

// Messages returns the summaries of the messages to the address, newest first.
func (m *MailpitServer) Messages(t testing.TB, to string) []MailpitMessage {
	t.Helper()
	var list struct {
		Messages []MailpitMessage `json:"messages"`
	}
	if err := m.get(context.Background(), "/api/v1/search?query="+url.QueryEscape("to:"+to), &list); err != nil {
		t.Fatal(err)
	}
	return list.Messages
}

// Message returns a whole message (its text included).
func (m *MailpitServer) Message(t testing.TB, id string) MailpitMessage {
	t.Helper()
	var msg MailpitMessage
	if err := m.get(context.Background(), "/api/v1/message/"+url.PathEscape(id), &msg); err != nil {
		t.Fatal(err)
	}
	return msg
}

// Headers returns a message's headers as received.
func (m *MailpitServer) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	if err := m.get(context.Background(), "/api/v1/message/"+url.PathEscape(id)+"/headers", &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// Only returns the one message to the address, failing the test when there is not
// exactly one. Mailpit stores a message before its SMTP exchange ends, so a message
// whose send returned is there.
func (m *MailpitServer) Only(t testing.TB, to string) MailpitMessage {
	t.Helper()
	list := m.Messages(t, to)
	if len(list) != 1 {
		t.Fatalf("want one message to %s, got %d", to, len(list))
	}
	return m.Message(t, list[0].ID)
}
