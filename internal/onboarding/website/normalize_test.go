package website

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		raw  string
		want string // "" when the URL is refused
	}{
		{"example.com", "https://example.com/"},
		{"  Example.COM/Blog?x=1#top ", "https://example.com/Blog?x=1"},
		{"HTTP://EXAMPLE.com", "http://example.com/"},
		{"example.com:8080/about", "https://example.com:8080/about"},
		{"[2606:4700::1]:8443", "https://[2606:4700::1]:8443/"},
		{"", ""},
		{"   ", ""},
		{"ftp://example.com/", ""},
		{"file:///etc/passwd", ""},
		{"javascript:alert(1)", ""},
		{"data:text/html,<p>hi</p>", ""},
		{"mailto:me@example.com", ""},
		{"gopher://example.com", ""},
		{"http://user:pass@example.com/", ""},
		{"https://user@example.com/", ""},
		{"u:p@example.com", ""},
		{"https://", ""},
		{"http:///path", ""},
		{"http://exa mple.com/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			t.Parallel()
			u, err := normalizeURL(tt.raw)
			if tt.want == "" {
				var merr *models.Error
				require.ErrorAs(t, err, &merr)
				require.Equal(t, models.CodeBadUserInput, merr.Code)
				require.Equal(t, "url", merr.Field)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, u.String())
		})
	}
}

func TestNormalizeLang(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"en", "en"},
		{"EN", "en"},
		{"en_us", "en-US"},
		{" de-AT ", "de-AT"},
		{"zh-hant-tw", "zh-Hant-TW"},
		{"es-419", "es-419"},
		{"", ""},
		{"e", ""},
		{"english", ""},
		{"en--us", ""},
		{"{{lang}}", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, normalizeLang(tt.in))
		})
	}
}

func TestFetchError(t *testing.T) {
	t.Parallel()
	a := New(Config{}, nil, nil)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	tests := []struct {
		name    string
		parent  context.Context
		err     error
		code    string
		message string
	}{
		{"no such host", context.Background(), &net.DNSError{Err: "no such host", Name: "nope.example", IsNotFound: true}, models.CodeBadUserInput, "the site nope.example could not be found: check the address"},
		{"DNS server failure", context.Background(), &net.DNSError{Err: "server misbehaving", Name: "nope.example", IsTemporary: true}, models.CodeUpstreamUnavailable, "the address of nope.example could not be looked up: try again later"},
		{"connection refused", context.Background(), refused, models.CodeUpstreamUnavailable, "nope.example could not be reached: try again later"},
		{"connection reset", context.Background(), &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, models.CodeUpstreamUnavailable, "nope.example could not be reached: try again later"},
		{"bad certificate", context.Background(), x509.UnknownAuthorityError{}, models.CodeBadUserInput, "the HTTPS certificate of nope.example is not valid"},
		{"caller gone", cancelled, refused, models.CodeUpstreamUnavailable, "the analysis was stopped before the site answered"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := a.fetchError(tt.parent, tt.parent, "nope.example", tt.err)
			var merr *models.Error
			require.ErrorAs(t, err, &merr)
			require.Equal(t, tt.code, merr.Code)
			require.Equal(t, "url", merr.Field)
			require.Equal(t, tt.message, merr.Message)
			require.True(t, errors.Is(err, tt.err), "the cause is kept for the logs")
		})
	}
}
