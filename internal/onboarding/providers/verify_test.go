package providers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding/providers"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// The fake provider answers according to the last character of the key.
const (
	keyAccepted    = 'a'
	keyRejected    = 'b'
	keyServerError = 'c'
	keySlow        = 'd' // never answers; the request waits for its context
	keyRateLimited = 'e'
	keyHugeBody    = 'f' // 200 with a body that never ends
	keyOther400    = '6' // 400 that is not about the key
	keyTruncated   = '7' // 200 whose body stops short of its Content-Length
	keyRedirect    = '8'
	keyForbidden   = '9'
)

// keyFor is a well-formed key for the provider whose last character is last,
// which must be a hex digit so that it fits every provider's format.
func keyFor(id string, last byte) string {
	end := string(last)
	switch id {
	case "openai":
		return "sk-proj-" + sec(47) + end
	case "anthropic":
		return "sk-ant-api03-" + sec(92) + end
	case "gemini":
		return "AQ.Ab" + sec(40) + end
	case "mistral":
		return sec(31) + end
	case "tavily":
		return "tvly-dev-" + sec(31) + end
	case "serper":
		return hex(39) + end
	case "exa":
		return testUUID[:35] + end
	}
	panic("no key for " + id)
}

// fakeRoute is how one provider's probe must arrive: method, path (after the
// "/<id>" prefix the tests put on each base URL) and where the key is read from.
type fakeRoute struct {
	method, path string
	// key returns the key as the provider would read it, or "" when the
	// request is not authenticated the way the provider expects.
	key func(r *http.Request) string
}

func fakeRoutes() map[string]fakeRoute {
	bearer := func(r *http.Request) string {
		key, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		return key
	}
	header := func(name string) func(r *http.Request) string {
		return func(r *http.Request) string { return r.Header.Get(name) }
	}
	return map[string]fakeRoute{
		"openai": {http.MethodGet, "/v1/models", bearer},
		"anthropic": {http.MethodGet, "/v1/models", func(r *http.Request) string {
			if r.Header.Get("anthropic-version") != "2023-06-01" {
				return ""
			}
			return r.Header.Get("x-api-key")
		}},
		"gemini":  {http.MethodGet, "/v1beta/models", header("x-goog-api-key")},
		"mistral": {http.MethodGet, "/v1/models", bearer},
		"tavily":  {http.MethodGet, "/usage", bearer},
		"serper":  {http.MethodGet, "/account", header("X-API-KEY")},
		"exa": {http.MethodPost, "/search", func(r *http.Request) string {
			var body struct {
				Query      string `json:"query"`
				NumResults int    `json:"numResults"`
			}
			if r.Header.Get("Content-Type") != "application/json" ||
				json.NewDecoder(r.Body).Decode(&body) != nil || body.Query == "" || body.NumResults != 1 {
				return ""
			}
			return r.Header.Get("x-api-key")
		}},
	}
}

// fakeProvider is one local server standing in for every provider, each under
// its own path prefix. It records every request it is sent.
type fakeProvider struct {
	srv *httptest.Server

	mu       sync.Mutex
	uris     []string       // request URIs as received, query included
	requests map[string]int // per provider id
	followed int            // requests to the redirect target
}

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	f := &fakeProvider{requests: map[string]int{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

// baseURLs points every provider at the fake.
func (f *fakeProvider) baseURLs() map[string]string {
	m := map[string]string{}
	for _, p := range providers.Registry() {
		m[p.ID] = f.srv.URL + "/" + p.ID
	}
	return m
}

func (f *fakeProvider) snapshot() (uris []string, requests map[string]int, followed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	requests = map[string]int{}
	for k, v := range f.requests {
		requests[k] = v
	}
	return append([]string(nil), f.uris...), requests, f.followed
}

func (f *fakeProvider) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	f.mu.Lock()
	f.uris = append(f.uris, r.RequestURI)
	f.requests[id]++
	if rest == "moved" {
		f.followed++
	}
	f.mu.Unlock()

	route, ok := fakeRoutes()[id]
	if !ok || r.Method != route.method || "/"+rest != route.path {
		http.Error(w, "no such endpoint", http.StatusNotFound)
		return
	}
	key := route.key(r)
	if key == "" {
		// Not 401: a request authenticated the wrong way must not pass for
		// a rejected key in these tests.
		http.Error(w, "credentials missing or sent the wrong way", http.StatusBadRequest)
		return
	}

	switch key[len(key)-1] {
	case keyAccepted:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":[]}`)
	case keyServerError:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case keySlow:
		<-r.Context().Done()
	case keyRateLimited:
		http.Error(w, `{"error":"rate limited"}`, http.StatusTooManyRequests)
	case keyHugeBody:
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat("x", 32<<10))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case keyOther400:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"reason":"BAD_PAGE_SIZE"}]}}`)
	case keyTruncated:
		w.Header().Set("Content-Length", "1000")
		_, _ = io.WriteString(w, `{"data":`)
	case keyRedirect:
		http.Redirect(w, r, "/"+id+"/moved", http.StatusFound)
	case keyForbidden:
		http.Error(w, "forbidden", http.StatusForbidden)
	default:
		if id == "gemini" {
			// What Google sends for an unknown key.
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT",`+
				`"details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`)
			return
		}
		http.Error(w, `{"error":"invalid api key"}`, http.StatusUnauthorized)
	}
}

func requireUpstreamError(t *testing.T, err error) *models.Error {
	t.Helper()
	e := testkit.RequireCode(t, err, models.CodeUpstreamUnavailable, "key")
	require.Error(t, e.Err, "the cause is kept for the logs")
	require.Contains(t, e.Message, "try again later")
	return e
}

func TestVerify(t *testing.T) {
	t.Parallel()
	fake := newFakeProvider(t)
	v := providers.NewVerifier(fake.srv.Client(), fake.baseURLs())

	tests := []struct {
		name string
		last byte
		// check inspects Verify's result; p is the provider under test.
		check func(t *testing.T, p models.Provider, err error)
	}{
		{"accepted", keyAccepted, func(t *testing.T, _ models.Provider, err error) {
			require.NoError(t, err)
		}},
		{"rejected", keyRejected, func(t *testing.T, p models.Provider, err error) {
			e := testkit.RequireCode(t, err, models.CodeBadUserInput, "key")
			want := p.Name + " rejected this key (401 Unauthorized)"
			if p.ID == "gemini" {
				want = p.Name + " rejected this key (400 Bad Request)"
			}
			require.Equal(t, want, e.Message)
		}},
		{"forbidden", keyForbidden, func(t *testing.T, p models.Provider, err error) {
			e := testkit.RequireCode(t, err, models.CodeBadUserInput, "key")
			require.Equal(t, p.Name+" rejected this key (403 Forbidden)", e.Message)
		}},
		// A 429 is applied to an authenticated key: the key is genuine.
		{"rate limited", keyRateLimited, func(t *testing.T, _ models.Provider, err error) {
			require.NoError(t, err)
		}},
		{"server error", keyServerError, func(t *testing.T, p models.Provider, err error) {
			e := requireUpstreamError(t, err)
			require.Contains(t, e.Message, p.Name)
			require.Contains(t, e.Message, "500 Internal Server Error")
		}},
		{"400 not about the key", keyOther400, func(t *testing.T, _ models.Provider, err error) {
			e := requireUpstreamError(t, err)
			require.Contains(t, e.Message, "400 Bad Request")
		}},
		{"huge body is read only in part", keyHugeBody, func(t *testing.T, _ models.Provider, err error) {
			require.NoError(t, err)
		}},
		{"truncated body", keyTruncated, func(t *testing.T, _ models.Provider, err error) {
			e := requireUpstreamError(t, err)
			require.Contains(t, e.Message, "could not be read")
		}},
		{"redirect is not followed", keyRedirect, func(t *testing.T, _ models.Provider, err error) {
			e := requireUpstreamError(t, err)
			require.Contains(t, e.Message, "302 Found")
		}},
		{"timeout", keySlow, func(t *testing.T, _ models.Provider, err error) {
			e := requireUpstreamError(t, err)
			require.Contains(t, e.Message, "did not answer in time")
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}},
	}

	t.Run("providers", func(t *testing.T) {
		for _, p := range providers.Registry() {
			for _, tc := range tests {
				t.Run(p.ID+"/"+tc.name, func(t *testing.T) {
					t.Parallel()
					key := keyFor(p.ID, tc.last)
					require.NoError(t, providers.CheckFormat(p.ID, key))
					timeout := 5 * time.Second
					if tc.last == keySlow {
						timeout = 100 * time.Millisecond
					}
					ctx, cancel := context.WithTimeout(t.Context(), timeout)
					defer cancel()

					err := v.Verify(ctx, p.ID, key)
					tc.check(t, p, err)
					if err != nil {
						requireNoLeak(t, p, err.Error(), key)
					}
				})
			}
		}
	})

	uris, requests, followed := fake.snapshot()
	require.Zero(t, followed, "a redirect must not carry a key anywhere")
	for _, p := range providers.Registry() {
		require.Equal(t, len(tests), requests[p.ID], "one request per case for %s", p.ID)
		for _, tc := range tests {
			key := keyFor(p.ID, tc.last)
			for _, uri := range uris {
				require.NotContains(t, uri, key, "the key must never be in a URL")
				require.NotContains(t, uri, key[len(key)-12:])
			}
		}
	}
}

// roundTripFunc is a transport made of a function, to see requests without a
// network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func respond(status int, r *http.Request) *http.Response {
	return &http.Response{
		StatusCode: status,
		Status:     fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header:     http.Header{},
		Body:       io.NopCloser(strings.NewReader("{}")),
		Request:    r,
	}
}

// TestVerifyDefaultEndpoints pins the real endpoints and headers, without a
// network: the transport records the request and answers 200 itself.
func TestVerifyDefaultEndpoints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id, method, url string
		headers         map[string]string // "KEY" stands for the key
		body            string
	}{
		{"openai", "GET", "https://api.openai.com/v1/models", map[string]string{"Authorization": "Bearer KEY"}, ""},
		{"anthropic", "GET", "https://api.anthropic.com/v1/models?limit=1", map[string]string{"x-api-key": "KEY", "anthropic-version": "2023-06-01"}, ""},
		{"gemini", "GET", "https://generativelanguage.googleapis.com/v1beta/models?pageSize=1", map[string]string{"x-goog-api-key": "KEY"}, ""},
		{"mistral", "GET", "https://api.mistral.ai/v1/models", map[string]string{"Authorization": "Bearer KEY"}, ""},
		{"tavily", "GET", "https://api.tavily.com/usage", map[string]string{"Authorization": "Bearer KEY"}, ""},
		{"serper", "GET", "https://google.serper.dev/account", map[string]string{"X-API-KEY": "KEY"}, ""},
		{"exa", "POST", "https://api.exa.ai/search", map[string]string{"x-api-key": "KEY", "Content-Type": "application/json"}, `{"query":"inkgraph","numResults":1}`},
	}
	require.Len(t, tests, len(providers.Registry()))
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			key := keyFor(tc.id, keyAccepted)
			var got *http.Request
			var body []byte
			client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = r
				if r.Body != nil {
					var err error
					body, err = io.ReadAll(r.Body)
					require.NoError(t, err)
				}
				return respond(http.StatusOK, r), nil
			})}

			require.NoError(t, providers.NewVerifier(client, nil).Verify(t.Context(), tc.id, key))
			require.NotNil(t, got)
			require.Equal(t, tc.method, got.Method)
			require.Equal(t, tc.url, got.URL.String())
			for name, value := range tc.headers {
				require.Equal(t, strings.ReplaceAll(value, "KEY", key), got.Header.Get(name), name)
			}
			require.Equal(t, tc.body, string(body))
			require.NotContains(t, got.URL.String(), key)

			// The key travels in exactly one header.
			carriers := 0
			for _, values := range got.Header {
				for _, value := range values {
					if strings.Contains(value, key) {
						carriers++
					}
				}
			}
			require.Equal(t, 1, carriers)
		})
	}
}

func TestVerifyWithoutRequest(t *testing.T) {
	t.Parallel()
	noNetwork := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("unexpected request to %s", r.URL)
		return respond(http.StatusOK, r), nil
	})}

	t.Run("unknown provider", func(t *testing.T) {
		t.Parallel()
		err := providers.NewVerifier(noNetwork, nil).Verify(t.Context(), "cohere", sec(40))
		testkit.RequireCode(t, err, models.CodeBadUserInput, "provider")
	})
	t.Run("malformed key is never sent", func(t *testing.T) {
		t.Parallel()
		v := providers.NewVerifier(noNetwork, nil)
		for _, p := range providers.Registry() {
			key := keyFor(p.ID, keyAccepted) + "\r\nX-Injected: 1"
			e := testkit.RequireCode(t, v.Verify(t.Context(), p.ID, key), models.CodeBadUserInput, "key")
			requireNoLeak(t, p, e.Error(), key)
			testkit.RequireCode(t, v.Verify(t.Context(), p.ID, "not-a-key"), models.CodeBadUserInput, "key")
		}
	})
	t.Run("invalid base URL override", func(t *testing.T) {
		t.Parallel()
		for _, base := range []string{
			"api.openai.com",
			"ftp://api.openai.com",
			"http://",
			"http://user:s3cr3t@proxy.internal",
			"http://proxy.internal/?via=1",
			"http://proxy.internal/#frag",
			"http://[::1",
		} {
			v := providers.NewVerifier(noNetwork, map[string]string{"openai": base})
			err := v.Verify(t.Context(), "openai", keyFor("openai", keyAccepted))
			require.Equal(t, models.CodeInternal, models.ErrorCode(err), base)
			require.NotContains(t, err.Error(), "s3cr3t")
			// Other providers are unaffected.
			require.NoError(t, providers.NewVerifier(
				&http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) { return respond(http.StatusOK, r), nil })},
				map[string]string{"openai": base},
			).Verify(t.Context(), "mistral", keyFor("mistral", keyAccepted)))
		}
	})
}

func TestVerifyBaseURLOverride(t *testing.T) {
	t.Parallel()
	fake := newFakeProvider(t)
	// Provider ids in overrides ignore case, and a trailing slash is fine.
	v := providers.NewVerifier(fake.srv.Client(), map[string]string{
		"OpenAI": fake.srv.URL + "/openai/",
		"exa":    fake.srv.URL + "/exa",
	})
	require.NoError(t, v.Verify(t.Context(), "openai", keyFor("openai", keyAccepted)))
	require.NoError(t, v.Verify(t.Context(), "EXA", keyFor("exa", keyAccepted)))
	_, requests, _ := fake.snapshot()
	require.Equal(t, map[string]int{"openai": 1, "exa": 1}, requests)
}

func TestVerifyUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	addr := srv.URL
	srv.Close() // nothing listens there any more

	v := providers.NewVerifier(nil, map[string]string{"tavily": addr})
	key := keyFor("tavily", keyAccepted)
	err := v.Verify(t.Context(), "tavily", key)
	e := requireUpstreamError(t, err)
	require.Contains(t, e.Message, "Tavily could not be reached")
	requireNoLeak(t, models.Provider{}, err.Error(), key)
}

func TestVerifyDefaultTimeout(t *testing.T) {
	t.Parallel()
	fake := newFakeProvider(t)
	v := providers.NewVerifier(fake.srv.Client(), fake.baseURLs())
	providers.SetTimeout(v, 50*time.Millisecond)

	// context.Background has no deadline, so the Verifier's own applies.
	err := v.Verify(context.Background(), "serper", keyFor("serper", keySlow))
	e := requireUpstreamError(t, err)
	require.Contains(t, e.Message, "Serper did not answer in time")
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestVerifyCanceled(t *testing.T) {
	t.Parallel()
	fake := newFakeProvider(t)
	v := providers.NewVerifier(fake.srv.Client(), fake.baseURLs())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	err := v.Verify(ctx, "mistral", keyFor("mistral", keyAccepted))
	e := requireUpstreamError(t, err)
	require.ErrorIs(t, e, context.Canceled, "the cancellation is the cause")
}
