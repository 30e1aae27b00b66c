package api_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct{ name, data string }

// subscribeSSE opens a subscription over Server-Sent Events and returns its events.
func subscribeSSE(t *testing.T, ctx context.Context, url, token, query string) <-chan sseEvent {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/graphql", strings.NewReader(string(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, resp.Header.Get("Content-Type"), "text/event-stream")
	out := make(chan sseEvent, 16)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event:"):
				ev.name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
			case strings.HasPrefix(line, "data:"):
				ev.data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
			case line == "" && ev.name != "":
				out <- ev
				ev = sseEvent{}
			}
		}
	}()
	return out
}

// TestAccountEventsAcrossInstancesOverSSE subscribes on one instance and signs out on
// another sharing the database: with PostgreSQL the event crosses by LISTEN/NOTIFY.
func TestAccountEventsAcrossInstancesOverSSE(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := testkit.DatabaseURL(t, d)
			a := startApp(t, url)
			b := a
			if d == testkit.Postgres {
				b = startApp(t, url) // a second instance; SQLite is one process, so one instance
			}
			access, refresh, _ := a.register(t, "sse@example.com")
			tsA := serve(t, a)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			events := subscribeSSE(t, ctx, tsA.URL, access, `subscription { accountEvents { type reason currentSession } }`)

			// Sign other sessions out on instance B until the subscription, live from
			// its first event on, reports one.
			login := `mutation { login(input: {email: "sse@example.com", password: "password1"}) { refreshToken } }`
			logout := `mutation($t: String!) { logout(refreshToken: $t) { sessionId } }`
			var first sseEvent
			require.Eventually(t, func() bool {
				data, errs := b.do(t, "", login, nil)
				require.Empty(t, errs)
				_, errs = b.do(t, "", logout, map[string]any{"t": data["login"].(map[string]any)["refreshToken"]})
				require.Empty(t, errs)
				select {
				case first = <-events:
					return true
				case <-time.After(100 * time.Millisecond):
					return false
				}
			}, 20*time.Second, 10*time.Millisecond)
			require.Equal(t, "next", first.name)
			require.JSONEq(t, `{"data":{"accountEvents":{"type":"SESSION_REVOKED","reason":"LOGOUT","currentSession":false}}}`, withoutExtensions(t, []byte(first.data)))

			_, errs := b.do(t, "", logout, map[string]any{"t": refresh})
			require.Empty(t, errs)
			own := <-events
			for own.name == "next" && strings.Contains(own.data, `"currentSession":false`) {
				own = <-events // a late event from the loop above
			}
			require.JSONEq(t, `{"data":{"accountEvents":{"type":"SESSION_REVOKED","reason":"LOGOUT","currentSession":true}}}`, own.data)
		})
	}
}

// TestSSEStreamEndsWhenTheTokenExpires: a subscription lives no longer than the access
// token it was opened with.
func TestSSEStreamEndsWhenTheTokenExpires(t *testing.T) {
	t.Parallel()
	a := newApp(t, testkit.SQLite, func(c *config.Config) { c.AccessTokenTTL = 2 * time.Second })
	access, _, _ := a.register(t, "short@example.com")
	ts := serve(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	events := subscribeSSE(t, ctx, ts.URL, access, `subscription { accountEvents { type } }`)
	var last sseEvent
	for ev := range events {
		last = ev
	}
	require.NoError(t, ctx.Err(), "the stream ended before the test's own deadline")
	require.Equal(t, "complete", last.name)
}
