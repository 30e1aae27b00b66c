package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

// signedCall makes a signed request as a client would: method, URL and every header
// given (Go sets Content-Length from the body itself).
func signedCall(t *testing.T, req map[string]any, body []byte) (int, []byte) {
	t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequestWithContext(context.Background(), req["method"].(string), req["url"].(string), rd)
	require.NoError(t, err)
	for _, h := range req["headers"].([]any) {
		h := h.(map[string]any)
		if name := h["name"].(string); !strings.EqualFold(name, "Content-Length") {
			r.Header.Set(name, h["value"].(string))
		}
	}
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

// serveOwnBlobs serves an app over real HTTP whose local blob store signs URLs to this
// very server (/blobs/…), as a single instance without S3 runs.
func serveOwnBlobs(t *testing.T, d testkit.Dialect) (*app, *httptest.Server) {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	t.Cleanup(ts.Close)
	a := newApp(t, d, withoutRateLimits, func(c *config.Config) { c.BackupBaseURL = "http://" + ts.Listener.Addr().String() })
	ts.Config.Handler = a.handler
	ts.Start()
	return a, ts
}

// TestBackupEndToEnd runs a backup's whole life over real HTTP on the local store:
// request, PUT to the server's own signed URL, complete, download, delete.
func TestBackupEndToEnd(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a, ts := serveOwnBlobs(t, d)
			ctx := context.Background()
			token, _, userID := a.register(t, "backer@example.com")

			// Larger than any GraphQL body may be: blobs bypass that limit.
			blob := make([]byte, 2<<20)
			_, _ = rand.Read(blob)
			sum := sha256.Sum256(blob)
			in := map[string]any{"version": 3, "timestamp": "2026-11-22T09:00:00.250Z", "checksum": hex.EncodeToString(sum[:]), "sizeBytes": len(blob)}
			const request = `mutation($in: BackupUploadInput!) { requestBackupUpload(input: $in) {
				backup { id status sizeBytes checksum timestamp version } method url headers { name value } expiresAt } }`

			_, errs := a.do(t, token, request, map[string]any{"in": in})
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeQuotaExceeded, errs[0].Extensions["code"], "the free tier has no backup storage")
			require.EqualValues(t, len(blob), errs[0].Extensions["used"])
			require.EqualValues(t, 0, errs[0].Extensions["limit"])

			_, err := a.accounts.SetTier(ctx, userID, models.TierPro)
			require.NoError(t, err)
			bad := map[string]any{"version": 3, "timestamp": "../../x", "checksum": in["checksum"], "sizeBytes": len(blob)}
			_, errs = a.do(t, token, request, map[string]any{"in": bad})
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
			require.Equal(t, "timestamp", errs[0].Extensions["field"])

			data, errs := a.do(t, token, request, map[string]any{"in": in})
			require.Empty(t, errs)
			up := data["requestBackupUpload"].(map[string]any)
			backupID := up["backup"].(map[string]any)["id"].(string)
			require.Equal(t, "PENDING", up["backup"].(map[string]any)["status"])
			require.True(t, strings.HasPrefix(up["url"].(string), ts.URL+"/blobs/"+userID+"/"), up["url"])

			status, body := signedCall(t, up, blob[:len(blob)-1])
			require.Equal(t, http.StatusBadRequest, status, "a body shorter than signed: %s", body)
			status, body = signedCall(t, up, blob)
			require.Equal(t, http.StatusCreated, status, string(body))

			other, _, _ := a.register(t, "other@example.com")
			const complete = `mutation($id: ID!) { completeBackupUpload(id: $id) { id status completedAt } }`
			_, errs = a.do(t, other, complete, map[string]any{"id": backupID})
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeNotFound, errs[0].Extensions["code"], "another user's backup")

			data, errs = a.do(t, token, complete, map[string]any{"id": backupID})
			require.Empty(t, errs)
			require.Equal(t, "COMPLETED", data["completeBackupUpload"].(map[string]any)["status"])

			data, errs = a.do(t, token, `{ backups(first: 5) { edges { cursor node { id status } } pageInfo { hasNextPage endCursor } }
				latestBackup { id timestamp } newer: latestBackup(ifModifiedSince: "2026-11-22T09:00:00.250Z") { id }
				backupUsage { usedBytes limitBytes tier } }`, nil)
			require.Empty(t, errs)
			require.Len(t, data["backups"].(map[string]any)["edges"], 1)
			require.Equal(t, backupID, data["latestBackup"].(map[string]any)["id"])
			require.Equal(t, "2026-11-22T09:00:00.25Z", data["latestBackup"].(map[string]any)["timestamp"])
			require.Nil(t, data["newer"], "nothing newer than what the client has")
			require.EqualValues(t, len(blob), data["backupUsage"].(map[string]any)["usedBytes"])
			require.EqualValues(t, 5<<30, data["backupUsage"].(map[string]any)["limitBytes"])

			data, errs = a.do(t, token, `query($id: ID!) { backupDownloadUrl(id: $id) { method url headers { name value } expiresAt } }`,
				map[string]any{"id": backupID})
			require.Empty(t, errs)
			get := data["backupDownloadUrl"].(map[string]any)
			status, body = signedCall(t, get, nil)
			require.Equal(t, http.StatusOK, status)
			require.Equal(t, blob, body)

			data, errs = a.do(t, token, `mutation($id: ID!) { deleteBackup(id: $id) { id } }`, map[string]any{"id": backupID})
			require.Empty(t, errs)
			require.Equal(t, backupID, data["deleteBackup"].(map[string]any)["id"])
			status, _ = signedCall(t, get, nil)
			require.Equal(t, http.StatusNotFound, status)

			_, errs = a.do(t, token, `mutation { deleteBackup(id: "../../secrets") { id } }`, nil)
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeNotFound, errs[0].Extensions["code"])
			require.Equal(t, "id", errs[0].Extensions["field"])

			resp, err := http.Get(ts.URL + "/blobs/" + userID + "/1795338000250")
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusForbidden, resp.StatusCode, "no signature, no blob")
		})
	}
}
