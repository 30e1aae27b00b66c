package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/conformance"
)

// TestGraphQLOverHTTPAudit runs the graphql-http audit suite against the real server.
// The audit sends far more anonymous requests from one address than its budget holds.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))
	report := conformance.RunAudit(t, ts.URL+"/graphql")
	t.Logf("graphql-http audit: ok=%d notice=%d warn=%d error=%d", report.OK, report.Notice, report.Warn, report.Error)
	require.Empty(t, report.Failed())
	require.Zero(t, report.Warn)
	require.Zero(t, report.Error)
	require.Equal(t, len(report.Results), report.OK)
}

// wsStep is one line the graphql-ws script prints.
type wsStep struct {
	Step  string `json:"step"`
	Error string `json:"error"`
	// completed
	Elsewhere *accountEventResult `json:"elsewhere"`
	Own       *accountEventResult `json:"own"`
	// Closed is how the socket closed after its own session was revoked.
	Closed *struct {
		Code   int    `json:"code"`
		Reason string `json:"reason"`
	} `json:"closed"`
	Me struct {
		Data struct {
			Me struct{ Email string } `json:"me"`
		} `json:"data"`
	} `json:"me"`
	// result
	Defaults badTokenResult `json:"defaults"`
	Bounded  badTokenResult `json:"bounded"`
}

type accountEventResult struct {
	Data struct {
		AccountEvents struct {
			Type           string `json:"type"`
			SessionID      string `json:"sessionId"`
			Reason         string `json:"reason"`
			CurrentSession bool   `json:"currentSession"`
		} `json:"accountEvents"`
	} `json:"data"`
}

type badTokenResult struct {
	Connections int   `json:"connections"`
	Codes       []int `json:"codes"`
	Failure     any   `json:"failure"`
}

// TestGraphQLWSClient drives the server with the real graphql-ws client: auth in
// connection_init, accountEvents delivering revocations, completion freeing the
// subscription's goroutines, and a bad token closing with 4403 without a retry storm.
// Not parallel: it counts goroutines.
func TestGraphQLWSClient(t *testing.T) {
	a := newApp(t, testkit.SQLite)
	access, refresh, _ := a.register(t, "ws@example.com")
	ts := serve(t, a)
	wsURL := "ws" + strings.TrimPrefix(ts.URL, "http") + "/graphql"

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := conformance.Node(t, ctx, "ws-client.mjs", wsURL, access, refresh, "ws@example.com", "password1")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	// The node process writes stderr from its own goroutine while the test reads it.
	var stderr testkit.SyncBuffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Wait() }()

	lines := bufio.NewScanner(stdout)
	next := func() wsStep {
		t.Helper()
		require.True(t, lines.Scan(), "the script ended early: %s", stderr.String())
		var s wsStep
		require.NoError(t, json.Unmarshal(lines.Bytes(), &s), lines.Text())
		require.NotEqual(t, "fatal", s.Step, s.Error)
		return s
	}
	send := func(word string) {
		_, err := io.WriteString(stdin, word+"\n")
		require.NoError(t, err)
	}

	require.Equal(t, "connected", next().Step)
	baseline := testkit.SettledGoroutines(t)
	send("go")

	done := next()
	require.Equal(t, "completed", done.Step, done.Error)
	require.NotNil(t, done.Elsewhere, "a sign-out elsewhere reached the subscription")
	require.Equal(t, "SESSION_REVOKED", done.Elsewhere.Data.AccountEvents.Type)
	require.Equal(t, "LOGOUT", done.Elsewhere.Data.AccountEvents.Reason)
	require.False(t, done.Elsewhere.Data.AccountEvents.CurrentSession)
	require.NotNil(t, done.Own, "this session's own sign-out reached the subscription")
	require.True(t, done.Own.Data.AccountEvents.CurrentSession)
	require.Equal(t, "ws@example.com", done.Me.Data.Me.Email, "the connection is authenticated")
	require.NotNil(t, done.Closed, "the socket of a revoked session closes")
	require.Equal(t, 4403, done.Closed.Code, done.Closed.Reason)

	// The subscription was completed by the client: its goroutines must be gone while
	// the connection itself stays open.
	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, 10*time.Second, 20*time.Millisecond,
		"goroutines after completing: %d, baseline %d", runtime.NumGoroutine(), baseline)
	send("done")

	result := next()
	require.Equal(t, "result", result.Step)
	t.Logf("bad token, client defaults: %+v; instant retries: %+v", result.Defaults, result.Bounded)
	require.Equal(t, 1, result.Defaults.Connections, "one connection in the first second: no reconnect storm")
	require.Equal(t, []int{4403}, result.Defaults.Codes)
	require.Equal(t, 4, result.Bounded.Connections, "1 + retryAttempts, then the client gives up")
	require.Equal(t, []int{4403, 4403, 4403, 4403}, result.Bounded.Codes)
	require.EqualValues(t, 4403, result.Bounded.Failure)
	require.NoError(t, cmd.Wait(), stderr.String())
}

// apolloAPQRun is one Apollo Client query as apollo-apq.mjs reports it.
type apolloAPQRun struct {
	Tiers    []string `json:"tiers"`
	Error    string   `json:"error"`
	Requests []struct {
		Method   string `json:"method"`
		HasQuery bool   `json:"hasQuery"`
		Status   int    `json:"status"`
	} `json:"requests"`
}

// TestApolloPersistedQueries drives the server with Apollo Client's persisted-query
// link, over POST and over GET (useGETForHashedQueries): the first client's hash alone
// is not found and it falls back to the hash with the query; a second client's hash
// alone is then answered from the store, in one request.
func TestApolloPersistedQueries(t *testing.T) {
	t.Parallel()
	ts := serve(t, newApp(t, testkit.SQLite, withoutRateLimits))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := conformance.Node(t, ctx, "apollo-apq.mjs", ts.URL+"/graphql", strings.ReplaceAll(t.Name(), "/", ""))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "apollo-apq.mjs: %s", stderr.String())
	var report map[string][]apolloAPQRun
	t.Logf("apollo-apq.mjs: %s", out)
	require.NoError(t, json.Unmarshal(out, &report), "%s", out)
	for mode, hashMethod := range map[string]string{"POST": "POST", "GET": "GET"} {
		runs := report[mode]
		require.Len(t, runs, 2, mode)
		first, second := runs[0], runs[1]
		require.Empty(t, first.Error, mode)
		require.Equal(t, []string{"FREE", "PRO", "POWER", "TEAM"}, first.Tiers, mode)
		require.Len(t, first.Requests, 2, "%s: the hash alone, then the hash with the query", mode)
		require.Equal(t, hashMethod, first.Requests[0].Method, mode)
		require.False(t, first.Requests[0].HasQuery, mode)
		require.True(t, first.Requests[1].HasQuery, mode)
		require.Equal(t, 200, first.Requests[1].Status, mode)

		require.Empty(t, second.Error, mode)
		require.Equal(t, first.Tiers, second.Tiers, mode)
		require.Len(t, second.Requests, 1, "%s: the stored query runs from its hash alone", mode)
		require.Equal(t, hashMethod, second.Requests[0].Method, mode)
		require.False(t, second.Requests[0].HasQuery, mode)
		require.Equal(t, 200, second.Requests[0].Status, mode)
	}
}
