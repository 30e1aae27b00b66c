package localhttp_test

import (
	"context"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/backup/localhttp"
)

func TestHandlerRefusals(t *testing.T) {
	t.Parallel()
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	store, err := backup.NewLocalStore(backup.LocalConfig{Dir: t.TempDir(), BaseURL: ts.URL, SigningKey: []byte(strings.Repeat("k", 32))})
	require.NoError(t, err)
	h = localhttp.Handler(store, nil)
	ctx := context.Background()
	blob := []byte("blob")
	sum := sha256.Sum256(blob)
	put, err := store.PresignPut(ctx, "u/1", int64(len(blob)), sum[:], time.Minute)
	require.NoError(t, err)

	do := func(method, url string, body io.Reader, chunked bool) int {
		t.Helper()
		r, err := http.NewRequestWithContext(ctx, method, url, body)
		require.NoError(t, err)
		for _, hd := range put.Headers {
			if hd.Name != "Content-Length" {
				r.Header.Set(hd.Name, hd.Value)
			}
		}
		if chunked {
			r.ContentLength = -1
		}
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusMethodNotAllowed, do(http.MethodPost, put.URL, strings.NewReader("blob"), false))
	require.Equal(t, http.StatusLengthRequired, do(http.MethodPut, put.URL, io.NopCloser(strings.NewReader("blob")), true))
	require.Equal(t, http.StatusForbidden, do(http.MethodGet, put.URL, nil, false), "a PUT's signature does not read")
	require.Equal(t, http.StatusCreated, do(http.MethodPut, put.URL, strings.NewReader("blob"), false))

	get, err := store.PresignGet(ctx, "u/1", time.Minute)
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, do(http.MethodPut, get.URL, strings.NewReader("blob"), false), "a GET's signature does not write")
	require.Equal(t, http.StatusOK, do(http.MethodHead, get.URL, nil, false))
}
