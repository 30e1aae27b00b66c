package stripemock_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit/stripemock"
)

func TestStartAnswersAndRecords(t *testing.T) {
	t.Parallel()
	srv := stripemock.Start(t)
	require.True(t, strings.HasPrefix(srv.URL, "http://127.0.0.1:"), srv.URL)

	rec := &stripemock.Recorder{}
	client := &http.Client{Transport: rec}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.URL+"/v1/customers",
		strings.NewReader("metadata[user_id]=u1"))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+stripemock.SecretKey)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Idempotency-Key", "k1")
	resp, err := client.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, resp.Body.Close())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Contains(t, string(body), `"object":"customer"`)

	sent := rec.Find(http.MethodPost, "/v1/customers")
	require.Len(t, sent, 1)
	require.Equal(t, "u1", sent[0].Form.Get("metadata[user_id]"))
	require.Equal(t, "k1", sent[0].Header.Get("Idempotency-Key"))
}

func TestTwoServersAtOnce(t *testing.T) {
	t.Parallel()
	a, b := stripemock.Start(t), stripemock.Start(t)
	require.NotEqual(t, a.URL, b.URL)
}
