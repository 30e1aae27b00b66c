package api_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/playground"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// chromiumPath is Debian's Chromium, which CI installs.
const chromiumPath = "/usr/bin/chromium"

// startChromium starts a headless Chromium for the test, recording what its pages
// request, send, receive and log, and returns the browser's context and one bounded
// by timeout to run the test's actions in (a bound on the whole run, not an
// assertion: a hung browser fails the test). The browser ends with the test.
func startChromium(t *testing.T, timeout time.Duration, extra ...chromedp.ExecAllocatorOption) (browser, ctx context.Context, rec *browserRecord) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		testkit.Unavailable(t, "chromium", err)
	}
	opts := append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}, extra...)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	browser, cancelBrowser := chromedp.NewContext(alloc)
	t.Cleanup(cancelBrowser)
	require.NoError(t, chromedp.Do(browser), "start chromium") // the browser lives as long as this context
	rec = &browserRecord{}
	require.NoError(t, chromedp.Listen(browser, rec.listen))
	ctx, cancel := context.WithTimeout(browser, timeout)
	t.Cleanup(cancel)
	return browser, ctx, rec
}

// browserRecord is what the page did, as Chromium reports it over the DevTools protocol.
type browserRecord struct {
	mu sync.Mutex
	// requests are the URL of every request and WebSocket the page opened.
	requests []string
	// framesSent and framesReceived are the WebSocket frames' payloads, in order.
	framesSent, framesReceived []string
	// problems are console errors, uncaught exceptions and error-level log entries
	// (a CSP violation is one).
	problems []string
}

func (b *browserRecord) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch e := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, e.Request.URL)
	case *network.EventWebSocketCreated:
		b.requests = append(b.requests, e.URL)
	case *network.EventWebSocketFrameSent:
		b.framesSent = append(b.framesSent, string(e.Response.PayloadData))
	case *network.EventWebSocketFrameReceived:
		b.framesReceived = append(b.framesReceived, string(e.Response.PayloadData))
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var args []string
			for _, a := range e.Args {
				args = append(args, string(a.Value)+a.Description)
			}
			b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(args, " ")))
		}
	case *runtime.EventExceptionThrown:
		d := e.ExceptionDetails
		msg := d.Text
		if d.Exception != nil {
			msg += " " + d.Exception.Description
		}
		b.problems = append(b.problems, fmt.Sprintf("exception: %s (%s:%d)", msg, d.URL, d.LineNumber))
	case *cdplog.EventEntryAdded:
		if e.Entry.Level == cdplog.EntryLevelError || e.Entry.Level == cdplog.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("log (%s, %s): %s %s", e.Entry.Source, e.Entry.Level, e.Entry.Text, e.Entry.URL))
		}
	}
}

func (b *browserRecord) snapshot() (requests, sent, received, problems []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests...), append([]string(nil), b.framesSent...),
		append([]string(nil), b.framesReceived...), append([]string(nil), b.problems...)
}

// loopback reports whether a URL the page loaded stays on this machine.
func loopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "data", "blob", "about":
		return nil
	case "http", "https", "ws", "wss":
	default:
		return fmt.Errorf("scheme %q", u.Scheme)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("host %q is not loopback", host)
}

// recordViolations keeps the page's CSP violations where the test can read them; it
// runs before the page's own scripts (DevTools injects it, not the page).
const recordViolations = `window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber);
});`

// Selectors of GraphiQL 3's UI.
const (
	runButton     = `.graphiql-execute-button`
	headersEditor = `section.graphiql-editor-tool[aria-label="Headers"] .graphiql-editor:not(.hidden) .CodeMirror`
	resultPane    = `.graphiql-response .result-window`
)

// TestPlaygroundInChromium opens GraphiQL at / in headless Chromium, as a developer
// would offline: signs up with the Register tab, signs the summary and chat tabs in
// with the header typed in the headers editor, runs the onboarding summary and a chat
// subscription (over the page's own graphql-ws client), and reads each result from
// the rendered result pane. Every request the page makes must stay on loopback, and
// the page must log no error (a CSP violation is one).
func TestPlaygroundInChromium(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite))

	browser, ctx, rec := startChromium(t, 3*time.Minute, chromedp.WindowSize(1400, 1000))

	defer func() {
		if !t.Failed() {
			return
		}
		requests, sent, received, problems := rec.snapshot()
		t.Logf("requests: %q\nsent: %q\nreceived: %q\nproblems: %q", requests, sent, received, problems)
		dctx, cancel := context.WithTimeout(browser, 10*time.Second)
		defer cancel()
		body, err := chromedp.Run(dctx, chromedp.Evaluate[string](`document.body.innerText`))
		t.Logf("the page (%v): %s", err, body)
	}()
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			_, err := cdp.Call(ctx, tgt, page.AddScriptToEvaluateOnNewDocument,
				page.AddScriptToEvaluateOnNewDocumentParams{Source: recordViolations})
			return err
		}),
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.CSS(runButton)),
	))
	tabs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll('.graphiql-tab .graphiql-tab-button')].map(b => b.textContent.trim())`))
	require.NoError(t, err)
	require.Equal(t, []string{"Register", "Login", "OnboardingSummary", "Chat"}, tabs, "the example operations, as tabs")

	// Register: the first tab is open; the page's fetcher POSTs it to /graphql.
	result := runAndRead(t, ctx, "Register", `"accessToken"`)
	token := regexp.MustCompile(`"accessToken":\s*"([A-Za-z0-9_.-]+)"`).FindStringSubmatch(result)
	require.NotNil(t, token, "the token in the result pane: %s", result)
	require.Contains(t, result, `"email": "dev@example.com"`)

	// The summary, signed in by the header typed in its tab's headers editor.
	selectTab(t, ctx, 2)
	typeHeaders(t, ctx, `{"Authorization": "Bearer `+token[1]+`"}`)
	result = runAndRead(t, ctx, "OnboardingSummary", `"onboarding"`)
	require.NotContains(t, result, `"errors"`)
	require.Contains(t, result, `"currentStep": 1`)
	require.Contains(t, result, `"percentage": 0`)

	// The chat subscription, over the page's WebSocket, signed in by the same header.
	selectTab(t, ctx, 3)
	typeHeaders(t, ctx, `{"Authorization": "Bearer `+token[1]+`"}`)
	_, err = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.__panes = [];
new MutationObserver(() => window.__panes.push(document.querySelector('`+resultPane+`').innerText))
  .observe(document.querySelector('`+resultPane+`'), {subtree: true, childList: true, characterData: true});`))
	require.NoError(t, err)
	result = runAndRead(t, ctx, "Chat", `"DONE"`)
	require.NotContains(t, result, `"errors"`)
	require.Contains(t, result, `"finishReason": "stop"`)
	seen, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__panes`))
	require.NoError(t, err)
	tokensShown := 0
	for _, s := range seen {
		if strings.Contains(s, `"TOKEN"`) {
			tokensShown++
		}
	}
	t.Logf("the result pane showed %d states, %d of them a TOKEN event", len(seen), tokensShown)

	// The docs (built from the schema by introspection) and the settings dialog: more of
	// GraphiQL's UI under the page's CSP.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`button[aria-label="Show Documentation Explorer"], button[aria-label="Documentation Explorer"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-doc-explorer-root-type`)),
		chromedp.Click(chromedp.CSS(`button[aria-label="Open settings dialog"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.graphiql-dialog`)),
	))

	requests, sent, received, problems := rec.snapshot()
	// The socket: graphql-transport-ws, signed in by the headers editor's header, and the
	// answer's tokens streamed to the page one event per frame.
	require.NotEmpty(t, sent)
	require.Contains(t, sent[0], `"type":"connection_init"`)
	require.Contains(t, sent[0], token[1], "connection_init carries the headers editor's Authorization")
	tokenFrames := 0
	for _, f := range received {
		if strings.Contains(f, `"type":"next"`) && strings.Contains(f, `"TOKEN"`) {
			tokenFrames++
		}
	}
	require.Greater(t, tokenFrames, 1, "tokens streamed over the socket: %v", received)

	var wsSeen bool
	for _, r := range requests {
		require.NoError(t, loopback(r), "the page requested %s", r)
		wsSeen = wsSeen || strings.HasPrefix(r, "ws://")
	}
	require.True(t, wsSeen, "the subscription went over a WebSocket: %v", requests)
	require.Empty(t, problems, "console errors, exceptions or CSP violations")
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp`))
	require.NoError(t, err)
	require.Empty(t, violations, "CSP violations")
	t.Logf("%d requests, all loopback; %d frames received", len(requests), len(received))
}

// TestPlaygroundOff: with INKGRAPH_PLAYGROUND off (production's default) neither the
// page nor its assets are served.
func TestPlaygroundOff(t *testing.T) {
	t.Parallel()
	on := serve(t, newApp(t, testkit.SQLite))
	off := serve(t, newApp(t, testkit.SQLite, func(c *config.Config) { c.Playground = false }))
	resp, err := http.Get(on.URL + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	asset := regexp.MustCompile(`/playground/[0-9a-f]{16}/graphiql\.min\.js`).FindString(string(body))
	require.NotEmpty(t, asset)
	for _, path := range []string{"/", asset, playground.LicensesPath} {
		resp, err := http.Get(on.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, "on: %s", path)
		resp, err = http.Get(off.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "off: %s", path)
	}
}

// runAndRead clicks GraphiQL's run button and waits until the result pane shows want,
// returning the pane's text as rendered.
func runAndRead(t *testing.T, ctx context.Context, operation, want string) string {
	var text string
	t.Helper()
	// GraphiQL reads the operation's name from the query editor a moment after its text
	// changes (a tab switch changes it): run once it has.
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(
		`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.operationName === %q`, operation),
		chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "GraphiQL's operation is %s", operation)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(runButton))))
	text, err = chromedp.Run(ctx, chromedp.Poll[string](fmt.Sprintf(
		`(() => { const p = document.querySelector(%q); return p && p.innerText.includes(%q) ? p.innerText : false; })()`,
		resultPane, want), chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	require.NoError(t, err, "waiting for %s in the result pane", want)
	return text
}

// selectTab clicks the i-th tab (from 0) and waits until it is the active one.
func selectTab(t *testing.T, ctx context.Context, i int) {
	t.Helper()
	sel := fmt.Sprintf(`.graphiql-tab:nth-child(%d)`, i+1)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(sel+` .graphiql-tab-button`)),
		chromedp.WaitVisible(chromedp.CSS(sel+`.graphiql-tab-active`)),
	))
}

// typeHeaders replaces the headers editor's text through CodeMirror, as typing does:
// GraphiQL hears the change and keeps it as the tab's headers.
func typeHeaders(t *testing.T, ctx context.Context, headers string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(() => {
  const editors = document.querySelectorAll(%q);
  if (editors.length !== 1) return 'visible headers editors: ' + editors.length;
  const cm = editors[0].CodeMirror; cm.setValue(%q); return cm.getValue(); })()`, headersEditor, headers)))
	require.NoError(t, err)
	require.Equal(t, headers, got)
}
