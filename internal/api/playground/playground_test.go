package playground_test

import (
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/inkgraph/inkgraph/graph"
	"github.com/inkgraph/inkgraph/internal/api/playground"
)

func serve(t *testing.T) (*playground.Handler, *httptest.Server) {
	t.Helper()
	h, err := playground.New("/graphql")
	require.NoError(t, err)
	mux := http.NewServeMux()
	h.Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return h, ts
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, body
}

func TestPageHeadersAndMarkup(t *testing.T) {
	t.Parallel()
	h, ts := serve(t)
	resp, body := get(t, ts.URL+"/")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))

	host := strings.TrimPrefix(ts.URL, "http://")
	csp := resp.Header.Get("Content-Security-Policy")
	require.Equal(t, playground.PageCSP(host), csp)
	directives := map[string]string{}
	for d := range strings.SplitSeq(csp, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	require.Equal(t, "'none'", directives["default-src"])
	require.Equal(t, "'self'", directives["script-src"], "no inline script, no other origin")
	require.Equal(t, "'self'", directives["style-src"], "no inline style attributes")
	require.Equal(t, "'self' ws://"+host+" wss://"+host, directives["connect-src"])
	require.Equal(t, "'none'", directives["frame-ancestors"])
	for name, value := range directives {
		require.NotRegexp(t, `https?:|\*`, value, "%s names no other origin", name)
	}

	page := html.UnescapeString(string(body))
	scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1)
	require.Len(t, scripts, 4, "React, ReactDOM, GraphiQL, init.js")
	for _, s := range scripts {
		require.Regexp(t, `src="/playground/[0-9a-f]{16}/[a-z.-]+\.js" integrity="sha384-[A-Za-z0-9+/=]+"`, s, "every script is a file of the server's, with its digest")
	}
	require.NotContains(t, page, "style=", "no inline style")
	require.NotContains(t, page, "http", "no absolute URL: nothing from another origin")
	for _, url := range h.Assets {
		require.Contains(t, page, `"`+url+`"`)
	}
	require.Contains(t, page, `data-endpoint="/graphql"`)
}

func TestPageCSPRefusesAnOddHost(t *testing.T) {
	t.Parallel()
	csp := playground.PageCSP("evil.example; script-src *")
	require.Contains(t, csp, "connect-src 'self';", "a Host that is not a host name adds no source")
	require.NotContains(t, csp, "evil")
	require.Contains(t, playground.PageCSP("[::1]:8080"), "ws://[::1]:8080 wss://[::1]:8080")
}

// TestAssetsMatchTheManifest: each file is served with its content type, for good
// under a URL that names its content, and hashes to what go generate recorded; the
// manifest agrees with the lock file.
func TestAssetsMatchTheManifest(t *testing.T) {
	t.Parallel()
	h, ts := serve(t)
	_, body := get(t, ts.URL+"/")
	page := html.UnescapeString(string(body))
	m, err := playground.ReadManifest()
	require.NoError(t, err)
	require.Len(t, m.Files, 4)
	for _, f := range m.Files {
		var url string
		for _, u := range h.Assets {
			if strings.HasSuffix(u, "/"+f.Path) {
				url = u
			}
		}
		require.NotEmpty(t, url, f.Path)
		resp, body := get(t, ts.URL+url)
		require.Equal(t, http.StatusOK, resp.StatusCode, url)
		want := "text/javascript; charset=utf-8"
		if strings.HasSuffix(f.Path, ".css") {
			want = "text/css; charset=utf-8"
		}
		require.Equal(t, want, resp.Header.Get("Content-Type"), url)
		require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "public, max-age=31536000, immutable", resp.Header.Get("Cache-Control"))
		sum := sha512.Sum384(body)
		require.Equal(t, f.SHA384, base64.StdEncoding.EncodeToString(sum[:]), "%s as served", f.Path)
		require.Regexp(t, `(src|href)="`+regexp.QuoteMeta(url+`" integrity="sha384-`+f.SHA384+`"`), page, "Subresource Integrity")

		again, _ := get(t, ts.URL+url, "If-None-Match", resp.Header.Get("ETag"))
		require.Equal(t, http.StatusNotModified, again.StatusCode, "revalidated by its ETag")

		stale, _ := get(t, ts.URL+"/playground/0000000000000000/"+f.Path)
		require.Equal(t, http.StatusNotFound, stale.StatusCode, "another content hash is not this file")
	}

	b, err := os.ReadFile("npm/package-lock.json")
	require.NoError(t, err)
	var lock struct {
		Packages map[string]struct{ Version, Integrity string } `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(b, &lock))
	for _, p := range m.Packages {
		locked := lock.Packages["node_modules/"+p.Name]
		require.Equal(t, locked.Version, p.Version, p.Name)
		require.Equal(t, locked.Integrity, p.Integrity, p.Name)
	}
}

func TestLicensesAreServed(t *testing.T) {
	t.Parallel()
	_, ts := serve(t)
	m, err := playground.ReadManifest()
	require.NoError(t, err)
	resp, list := get(t, ts.URL+playground.LicensesPath)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
	for _, p := range m.Packages {
		url := playground.LicensesPath + "/" + p.Name + ".txt"
		require.Contains(t, string(list), p.Name+" "+p.Version+" ("+p.License)
		require.Contains(t, string(list), url)
		resp, body := get(t, ts.URL+url)
		require.Equal(t, http.StatusOK, resp.StatusCode, url)
		require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
		require.Contains(t, string(body), "Permission is hereby granted", "%s: the MIT licence text", p.Name)
	}
}

// TestExamplesAreValidOperations: every tab's operation parses and validates against
// Inkgraph's schema, and the tabs are the ones the page promises.
func TestExamplesAreValidOperations(t *testing.T) {
	t.Parallel()
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	tabs, err := playground.Tabs()
	require.NoError(t, err)
	var names []string
	for _, tab := range tabs {
		doc, err := parser.ParseQuery(&ast.Source{Input: tab.Query})
		require.NoError(t, err, tab.Query)
		require.Empty(t, validator.ValidateWithRules(schema, doc, nil), tab.Query)
		require.Len(t, doc.Operations, 1)
		names = append(names, string(doc.Operations[0].Operation)+" "+doc.Operations[0].Name)
		if tab.Variables != "" {
			require.True(t, json.Valid([]byte(tab.Variables)), tab.Variables)
		}
	}
	require.Equal(t, []string{"mutation Register", "mutation Login", "query OnboardingSummary", "subscription Chat"}, names)
}
