package website_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/models"
)

// loopback lets the analyzer reach the tests' httptest servers.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

const simplePage = `<!DOCTYPE html><html lang="en"><head><title>Hello</title></head>
<body><h1>Welcome</h1><p>We write plain words for busy people.</p></body></html>`

// serve starts a test server on 127.0.0.1 for the test.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func html(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, body)
	}
}

func redirectTo(location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, location, http.StatusFound)
	}
}

func requireError(t *testing.T, err error, code, message string) {
	t.Helper()
	var merr *models.Error
	require.ErrorAs(t, err, &merr)
	require.Equal(t, code, merr.Code, merr.Error())
	require.Equal(t, "url", merr.Field)
	require.Contains(t, merr.Message, message)
}

func TestAnalyzeFetches(t *testing.T) {
	t.Parallel()
	mux := http.NewServeMux()
	mux.HandleFunc("/start", redirectTo("/final"))
	mux.HandleFunc("/final", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") != website.DefaultUserAgent {
			http.Error(w, "unexpected user agent", http.StatusBadRequest)
			return
		}
		html(simplePage)(w, r)
	})
	srv := serve(t, mux.ServeHTTP)

	a := website.New(website.Config{Allow: loopback}, nil, nil)
	before := time.Now()
	got, err := a.Analyze(t.Context(), "HTTP://"+strings.TrimPrefix(srv.URL, "http://")+"/start")
	require.NoError(t, err)

	require.Equal(t, srv.URL+"/start", got.URL)
	require.Equal(t, srv.URL+"/final", got.FinalURL)
	require.Equal(t, "text/html", got.ContentType)
	require.Equal(t, int64(len(simplePage)), got.FetchedBytes)
	require.GreaterOrEqual(t, got.FetchDurationMS, int64(0))
	require.Equal(t, time.UTC, got.AnalyzedAt.Location())
	require.WithinRange(t, got.AnalyzedAt, before, time.Now())
	require.Empty(t, got.UserID)
	require.Equal(t, "Hello", got.Title)
	require.Equal(t, []models.Heading{{Level: 1, Text: "Welcome"}}, got.Headings)
	require.Equal(t, 8, got.WordCount)
	require.Equal(t, "en", got.Language)
	require.Nil(t, got.Style)
	require.Nil(t, got.Brand)
}

func TestAnalyzeBrand(t *testing.T) {
	t.Parallel()
	srv := serve(t, html(`<html><head><meta property="og:site_name" content="Acme">
<link rel="icon" href="/favicon.png"><style>a { color: #0A0; }</style></head><body><p>Hi.</p></body></html>`))
	a := website.New(website.Config{Allow: loopback, Brand: true}, nil, nil)
	got, err := a.Analyze(t.Context(), srv.URL)
	require.NoError(t, err)
	require.Equal(t, &models.Brand{Colors: []string{"#00aa00"}, Fonts: []string{}, SiteName: "Acme", LogoURL: srv.URL + "/favicon.png"}, got.Brand)
}

func TestAnalyzeDecodesCharset(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{
			name:        "declared in the header",
			contentType: "text/html; charset=iso-8859-1",
			body:        "<html><head><title>Caf\xe9 cr\xe8me</title></head><body><h1>Cr\xe8me br\xfbl\xe9e</h1></body></html>",
		},
		{
			name:        "declared in a meta element",
			contentType: "text/html",
			body:        "<html><head><meta charset=\"windows-1252\"><title>Caf\xe9 cr\xe8me</title></head><body><h1>Cr\xe8me br\xfbl\xe9e</h1></body></html>",
		},
		{
			name:        "undeclared",
			contentType: "text/html",
			body:        "<html><head><title>Caf\xe9 cr\xe8me</title></head><body><h1>Cr\xe8me br\xfbl\xe9e</h1></body></html>",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				fmt.Fprint(w, tt.body)
			})
			got, err := website.New(website.Config{Allow: loopback}, nil, nil).Analyze(t.Context(), srv.URL)
			require.NoError(t, err)
			require.Equal(t, "Café crème", got.Title)
			require.Equal(t, []models.Heading{{Level: 1, Text: "Crème brûlée"}}, got.Headings)
		})
	}
}

func TestAnalyzeRefuses(t *testing.T) {
	t.Parallel()

	// A port nothing listens on: a server's, once it is closed.
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name    string
		cfg     website.Config
		handler http.HandlerFunc                                // the server the URL points to
		url     func(t *testing.T, srv *httptest.Server) string // srv.URL when nil
		code    string
		message string
	}{
		{
			name:    "loopback without Allow",
			handler: html(simplePage),
			code:    models.CodeBadUserInput,
			message: "the address 127.0.0.1 is private: only public websites can be analyzed",
		},
		{
			name:    "redirect to the metadata address",
			cfg:     website.Config{Allow: loopback},
			handler: redirectTo("http://169.254.169.254/latest/meta-data/"),
			code:    models.CodeBadUserInput,
			message: "the address 169.254.169.254 is private",
		},
		{
			name:    "redirect to a private address",
			cfg:     website.Config{Allow: loopback},
			handler: redirectTo("http://10.0.0.1/"),
			code:    models.CodeBadUserInput,
			message: "the address 10.0.0.1 is private",
		},
		{
			name:    "redirect to IPv4-mapped loopback outside Allow",
			cfg:     website.Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
			handler: redirectTo("http://[::ffff:127.0.0.2]/"),
			code:    models.CodeBadUserInput,
			message: "the address 127.0.0.2 is private",
		},
		{
			name:    "redirect to another scheme",
			cfg:     website.Config{Allow: loopback},
			handler: redirectTo("ftp://example.com/file"),
			code:    models.CodeBadUserInput,
			message: "only http:// and https:// addresses",
		},
		{
			name: "too many redirects",
			cfg:  website.Config{Allow: loopback, MaxRedirects: 3},
			handler: func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, r.URL.Path+"x", http.StatusFound)
			},
			code:    models.CodeBadUserInput,
			message: "the site redirected more than 3 times",
		},
		{
			name: "JSON",
			cfg:  website.Config{Allow: loopback},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"hello":"world"}`)
			},
			code:    models.CodeBadUserInput,
			message: "the address leads to application/json content, not a web page",
		},
		{
			name: "image",
			cfg:  website.Config{Allow: loopback},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "image/png")
				_, _ = w.Write([]byte("\x89PNG\r\n\x1a\n"))
			},
			code:    models.CodeBadUserInput,
			message: "the address leads to image/png content, not a web page",
		},
		{
			name: "too large by Content-Length",
			cfg:  website.Config{Allow: loopback, MaxBytes: 1024},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Content-Length", "4096")
				_, _ = w.Write([]byte(strings.Repeat("a", 4096)))
			},
			code:    models.CodeBadUserInput,
			message: "the page is larger than 1 KiB",
		},
		{
			name: "too large by a chunked body",
			cfg:  website.Config{Allow: loopback, MaxBytes: 1024},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				for range 4 {
					if _, err := w.Write([]byte(strings.Repeat("a", 512))); err != nil {
						return
					}
					http.NewResponseController(w).Flush()
				}
			},
			code:    models.CodeBadUserInput,
			message: "the page is larger than 1 KiB",
		},
		{
			name:    "not found",
			cfg:     website.Config{Allow: loopback},
			handler: http.NotFound,
			code:    models.CodeBadUserInput,
			message: "the site answered 404 Not Found",
		},
		{
			name: "server error",
			cfg:  website.Config{Allow: loopback},
			handler: func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
			},
			code:    models.CodeUpstreamUnavailable,
			message: "the site answered 503 Service Unavailable",
		},
		{
			name: "timeout",
			cfg:  website.Config{Allow: loopback, Timeout: 100 * time.Millisecond},
			handler: func(_ http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
			},
			code:    models.CodeUpstreamUnavailable,
			message: "did not answer within 100ms",
		},
		{
			name: "timeout while reading the body",
			cfg:  website.Config{Allow: loopback, Timeout: 100 * time.Millisecond},
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				fmt.Fprint(w, "<html><body>")
				http.NewResponseController(w).Flush()
				<-r.Context().Done()
			},
			code:    models.CodeUpstreamUnavailable,
			message: "did not answer within 100ms",
		},
		{
			name:    "connection refused",
			handler: http.NotFound,
			cfg:     website.Config{Allow: loopback},
			url:     func(*testing.T, *httptest.Server) string { return closedURL },
			code:    models.CodeUpstreamUnavailable,
			message: "127.0.0.1 could not be reached: try again later",
		},
		{
			name:    "HTTPS by default, with a certificate nobody signed",
			cfg:     website.Config{Allow: loopback},
			handler: html(simplePage),
			url: func(t *testing.T, _ *httptest.Server) string {
				srv := httptest.NewUnstartedServer(html(simplePage))
				srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is the point
				srv.StartTLS()
				t.Cleanup(srv.Close)
				return strings.TrimPrefix(srv.URL, "https://") // no scheme: https is assumed
			},
			code:    models.CodeBadUserInput,
			message: "the HTTPS certificate of 127.0.0.1 is not valid",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := serve(t, tt.handler)
			target := srv.URL
			if tt.url != nil {
				target = tt.url(t, srv)
			}
			got, err := website.New(tt.cfg, nil, nil).Analyze(t.Context(), target)
			require.Nil(t, got)
			requireError(t, err, tt.code, tt.message)
		})
	}
}

func TestAnalyzeRefusesURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url     string
		message string
	}{
		{"", "enter the address of your website"},
		{"ftp://example.com/", "only http:// and https:// addresses can be analyzed"},
		{"file:///etc/passwd", "only http:// and https:// addresses can be analyzed"},
		{"javascript:alert(1)", "only http:// and https:// addresses can be analyzed"},
		{"data:text/html,<p>hi</p>", "only http:// and https:// addresses can be analyzed"},
		{"http://user:secret@example.com/", "must not contain a user name or password"},
		{"http:///path", "the address has no site name"},
		{"http://127.0.0.1/", "the address 127.0.0.1 is private"},
		{"http://[::1]:8080/", "the address ::1 is private"},
		{"http://[::ffff:127.0.0.1]/", "the address 127.0.0.1 is private"},
		{"http://0.0.0.0/", "the address 0.0.0.0 is private"},
		{"http://169.254.169.254/latest/meta-data/", "the address 169.254.169.254 is private"},
		{"https://[fd00:ec2::254]/", "the address fd00:ec2::254 is private"},
	}
	// Every refusal happens before any connection: the analyzer has nowhere to go.
	a := website.New(website.Config{}, nil, nil)
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			got, err := a.Analyze(t.Context(), tt.url)
			require.Nil(t, got)
			requireError(t, err, models.CodeBadUserInput, tt.message)
		})
	}
}

func TestAnalyzeStopsWithTheCaller(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	srv := serve(t, func(_ http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-started
		cancel()
	}()
	_, err := website.New(website.Config{Allow: loopback}, nil, nil).Analyze(ctx, srv.URL)
	requireError(t, err, models.CodeUpstreamUnavailable, "the analysis was stopped")
	require.ErrorIs(t, err, context.Canceled)
}

// The listener's address is what the dial check sees, whatever the URL says.
func TestAnalyzeChecksTheDialledAddress(t *testing.T) {
	t.Parallel()
	srv := serve(t, html(simplePage))
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	u := &url.URL{Scheme: "http", Host: net.JoinHostPort("localhost", port), Path: "/"}

	_, err = website.New(website.Config{}, nil, nil).Analyze(t.Context(), u.String())
	requireError(t, err, models.CodeBadUserInput, "the address of localhost (127.0.0.1) is private")

	got, err := website.New(website.Config{Allow: loopback}, nil, nil).Analyze(t.Context(), u.String())
	require.NoError(t, err)
	require.Equal(t, "Hello", got.Title)
}
