package website

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// TestFetchKeepsTheGuard: Fetch, for knowledge documents, takes any media type but
// keeps analysis's address guard, redirects check and size limit.
func TestFetchKeepsTheGuard(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/doc.pdf":
			w.Header().Set("Content-Type", "application/pdf")
			_, _ = w.Write([]byte("%PDF-1.4 bytes"))
		case "/big":
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(strings.Repeat("x", 2048)))
		case "/away":
			http.Redirect(w, r, "http://10.0.0.1/doc.pdf", http.StatusFound)
		}
	}))
	defer srv.Close()
	ctx := context.Background()

	_, err := New(Config{}, nil, nil).Fetch(ctx, srv.URL+"/doc.pdf")
	testkit.RequireCode(t, err, models.CodeBadUserInput, "url")

	a := New(Config{MaxBytes: 1024, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, nil, nil)
	got, err := a.Fetch(ctx, srv.URL+"/doc.pdf")
	require.NoError(t, err)
	require.Equal(t, "application/pdf", got.MediaType)
	require.Equal(t, "%PDF-1.4 bytes", string(got.Body))
	require.Equal(t, srv.URL+"/doc.pdf", got.URL)

	_, err = a.Fetch(ctx, srv.URL+"/big")
	testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
	_, err = a.Fetch(ctx, srv.URL+"/away")
	testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
	_, err = a.Fetch(ctx, "ftp://example.com/x")
	testkit.RequireCode(t, err, models.CodeBadUserInput, "url")
}
