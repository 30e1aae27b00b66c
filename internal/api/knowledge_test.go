package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/models"
)

const orchardNotes = `# Orchard notes

## Apples

Apple trees are pruned in late winter while they are dormant; remove crossing branches
and open the centre to light.

## Pears

Pears ripen off the tree: pick them hard and keep them in a cool room for a week.
`

// ingestionEvents follows a document's ingestion over SSE until its stream completes.
func ingestionEvents(t *testing.T, events <-chan sseEvent) []string {
	t.Helper()
	var seen []string
	for ev := range events {
		if ev.name == ":" {
			continue
		}
		if ev.name == "complete" {
			break
		}
		require.Equal(t, "next", ev.name, ev.data)
		var payload struct {
			Data struct {
				DocumentIngestion struct {
					State string `json:"state"`
					Done  int    `json:"done"`
					Total int    `json:"total"`
					Error string `json:"error"`
				} `json:"documentIngestion"`
			} `json:"data"`
			Errors []gqlError `json:"errors"`
		}
		require.NoError(t, json.Unmarshal([]byte(ev.data), &payload), ev.data)
		require.Empty(t, payload.Errors)
		seen = append(seen, payload.Data.DocumentIngestion.State)
	}
	return seen
}

// TestKnowledgeEndToEnd adds a document over real HTTP through the local store's
// signed URL, follows its ingestion over SSE, searches it, adds a page from a
// loopback site (allowed by INKGRAPH_FETCH_ALLOW), is refused a private address, and
// deletes the document.
func TestKnowledgeEndToEnd(t *testing.T) {
	t.Parallel()
	for _, d := range []testkit.Dialect{testkit.SQLite, testkit.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			a, ts := serveOwnBlobs(t, d)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			token, _, userID := a.register(t, "reader@example.com")

			sum := sha256.Sum256([]byte(orchardNotes))
			const add = `mutation($in: AddDocumentInput!) { addDocument(input: $in) {
				document { id state title tags source } method url headers { name value } expiresAt } }`
			in := map[string]any{"title": "Orchard", "mediaType": "text/markdown", "sizeBytes": len(orchardNotes),
				"checksum": hex.EncodeToString(sum[:]), "tags": []string{"garden"}}
			_, errs := a.do(t, token, add, map[string]any{"in": map[string]any{"title": "x", "mediaType": "image/png",
				"sizeBytes": 1, "checksum": in["checksum"]}})
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
			require.Equal(t, "mediaType", errs[0].Extensions["field"])

			data, errs := a.do(t, token, add, map[string]any{"in": in})
			require.Empty(t, errs)
			up := data["addDocument"].(map[string]any)
			doc := up["document"].(map[string]any)
			docID := doc["id"].(string)
			require.Equal(t, "UPLOADING", doc["state"])
			require.Equal(t, "UPLOAD", doc["source"])
			require.True(t, strings.HasPrefix(up["url"].(string), ts.URL+"/blobs/knowledge/"+userID+"/"), up["url"])
			status, body := signedCall(t, up, []byte(orchardNotes))
			require.Equal(t, http.StatusCreated, status, string(body))

			stream := subscribeSSE(t, ctx, ts.URL, token, `subscription { documentIngestion(id: "`+docID+`") { state done total error } }`)
			require.Equal(t, "next", nextSSEEvent(t, stream).name, "UPLOADING, where it stands")
			data, errs = a.do(t, token, `mutation($id: ID!) { completeDocumentUpload(id: $id) { id state } }`, map[string]any{"id": docID})
			require.Empty(t, errs)
			// QUEUED, or further already: the app's worker starts at once.
			require.NotEqual(t, "UPLOADING", data["completeDocumentUpload"].(map[string]any)["state"])
			seen := ingestionEvents(t, stream)
			require.NotEmpty(t, seen)
			require.Equal(t, "READY", seen[len(seen)-1], "the app's worker ingests it: %v", seen)
			require.Contains(t, seen, "EMBEDDING")

			data, errs = a.do(t, token, `{ searchDocuments(query: "when are apple trees pruned", first: 3, tag: "garden") {
				documentId documentTitle chunkId position start end text score embedder }
				documents(first: 5) { edges { node { id title state chunkCount embedder tags sourceUrl } } }
				document(id: "`+docID+`") { state chunkCount ingestedAt } }`, nil)
			require.Empty(t, errs)
			hits := data["searchDocuments"].([]any)
			require.NotEmpty(t, hits)
			top := hits[0].(map[string]any)
			require.Equal(t, docID, top["documentId"])
			require.Equal(t, "Orchard", top["documentTitle"])
			require.Contains(t, top["text"], "pruned")
			require.Equal(t, "offline", top["embedder"])
			node := data["documents"].(map[string]any)["edges"].([]any)[0].(map[string]any)["node"].(map[string]any)
			require.Equal(t, "READY", node["state"])
			require.Equal(t, "offline", node["embedder"])
			require.Nil(t, node["sourceUrl"])

			// Another user sees nothing of it.
			other, _, _ := a.register(t, "someone-else@example.com")
			_, errs = a.do(t, other, `mutation($id: ID!) { deleteDocument(id: $id) { id } }`, map[string]any{"id": docID})
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeNotFound, errs[0].Extensions["code"])
			require.Equal(t, "id", errs[0].Extensions["field"])

			// A page from a loopback site (allowed for the tests), and a private address.
			site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(`<html><head><title>Cider guide</title></head><body><h1>Cider</h1>
					<p>Press the apples within a day of milling, and let the juice ferment cool.</p></body></html>`))
			}))
			t.Cleanup(site.Close)
			const fromURL = `mutation($url: String!) { addDocumentFromUrl(input: {url: $url, tags: ["web"]}) { id title state source sourceUrl } }`
			_, errs = a.do(t, token, fromURL, map[string]any{"url": "http://10.1.2.3/guide"})
			require.Len(t, errs, 1)
			require.Equal(t, models.CodeBadUserInput, errs[0].Extensions["code"])
			require.Equal(t, "url", errs[0].Extensions["field"])
			data, errs = a.do(t, token, fromURL, map[string]any{"url": site.URL + "/cider"})
			require.Empty(t, errs)
			web := data["addDocumentFromUrl"].(map[string]any)
			require.Equal(t, "URL", web["source"])
			require.Equal(t, site.URL+"/cider", web["sourceUrl"])
			webID := web["id"].(string)
			seen = ingestionEvents(t, subscribeSSE(t, ctx, ts.URL, token, `subscription { documentIngestion(id: "`+webID+`") { state done total error } }`))
			require.Equal(t, "READY", seen[len(seen)-1], seen)
			data, errs = a.do(t, token, `{ searchDocuments(query: "ferment the juice", first: 1, tag: "web") { documentId text } }`, nil)
			require.Empty(t, errs)
			require.Equal(t, webID, data["searchDocuments"].([]any)[0].(map[string]any)["documentId"])

			data, errs = a.do(t, token, `mutation($id: ID!) { deleteDocument(id: $id) { id title } }`, map[string]any{"id": docID})
			require.Empty(t, errs)
			require.Equal(t, "Orchard", data["deleteDocument"].(map[string]any)["title"])
			require.Zero(t, countRowsWhere(t, a, "document_chunks", "document_id", docID))
			_, err := os.Stat(filepath.Join(a.cfg.BackupDir, "knowledge", userID, docID))
			require.ErrorIs(t, err, os.ErrNotExist, "the file is deleted")
		})
	}
}

func countRowsWhere(t *testing.T, a *app, table, column, value string) int {
	t.Helper()
	n, err := a.db.NewSelect().Table(table).Where("? = ?", bun.Ident(column), value).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// TestKnowledgeIngestionAcrossInstances: a client follows a document's ingestion on
// one instance while another instance's request queued it; the steps cross through
// the events bus (PostgreSQL LISTEN/NOTIFY), whichever instance's worker ingests it.
func TestKnowledgeIngestionAcrossInstances(t *testing.T) {
	t.Parallel()
	url := testkit.PostgresSchemaURL(t)
	blobs := t.TempDir()
	shared := func(c *config.Config) { c.BackupDir = blobs }
	a := startApp(t, url, withoutRateLimits, shared)
	b := startApp(t, url, withoutRateLimits, shared)
	tsA := serve(t, a)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	token, _, _ := a.register(t, "two-instances@example.com")

	sum := sha256.Sum256([]byte(orchardNotes))
	data, errs := b.do(t, token, `mutation($in: AddDocumentInput!) { addDocument(input: $in) { document { id } method url headers { name value } } }`,
		map[string]any{"in": map[string]any{"title": "Orchard", "mediaType": "text/markdown", "sizeBytes": len(orchardNotes),
			"checksum": hex.EncodeToString(sum[:])}})
	require.Empty(t, errs)
	up := data["addDocument"].(map[string]any)
	docID := up["document"].(map[string]any)["id"].(string)
	// The local store's URL names the configured base; the PUT goes to instance A.
	up["url"] = tsA.URL + up["url"].(string)[strings.Index(up["url"].(string), "/blobs/"):]
	status, body := signedCall(t, up, []byte(orchardNotes))
	require.Equal(t, http.StatusCreated, status, string(body))

	stream := subscribeSSE(t, ctx, tsA.URL, token, `subscription { documentIngestion(id: "`+docID+`") { state done total error } }`)
	require.Equal(t, "next", nextSSEEvent(t, stream).name, "UPLOADING, where it stands")
	_, errs = b.do(t, token, `mutation($id: ID!) { completeDocumentUpload(id: $id) { id } }`, map[string]any{"id": docID})
	require.Empty(t, errs)
	seen := ingestionEvents(t, stream)
	require.NotEmpty(t, seen)
	require.Equal(t, "READY", seen[len(seen)-1], seen)
}
