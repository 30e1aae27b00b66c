package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/knowledge"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/versitygw"
)

// TestKnowledgeBlobsOnS3: knowledge's documents on S3 (versitygw): a client's upload
// through the signed PUT is what the worker reads, under the knowledge prefix; a
// fetched page's own write reads back; a read past the limit is refused; a missing
// object is knowledge's ErrBlobNotFound; a deleted one is gone.
func TestKnowledgeBlobsOnS3(t *testing.T) {
	t.Parallel()
	gw := versitygw.Start(t)
	ctx := context.Background()
	bucket := "knowledge-" + testkit.RandomHex(4)
	store, err := backup.NewS3Store(ctx, backup.S3Config{
		Bucket: bucket, Region: versitygw.Region, Endpoint: gw.URL, PathStyle: true,
		AccessKeyID: versitygw.AccessKey, SecretAccessKey: versitygw.SecretKey,
	})
	require.NoError(t, err)
	_, err = store.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	blobs := &knowledgeBlobs{store: store}

	doc := []byte("# Pricing\n\nThe team plan is billed per seat.\n")
	sum := sha256.Sum256(doc)
	put, err := blobs.PresignPut(ctx, "user-1/doc-1", int64(len(doc)), sum[:], time.Minute)
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(ctx, put.Method, put.URL, bytes.NewReader(doc))
	require.NoError(t, err)
	for _, h := range put.Headers {
		if !strings.EqualFold(h.Name, "Content-Length") {
			req.Header.Set(h.Name, h.Value)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.NoError(t, resp.Body.Close())
	require.Less(t, resp.StatusCode, 300)

	got, err := blobs.Get(ctx, "user-1/doc-1", int64(len(doc)))
	require.NoError(t, err)
	require.Equal(t, doc, got)
	_, err = store.Stat(ctx, knowledgePrefix+"user-1/doc-1")
	require.NoError(t, err, "stored under the knowledge prefix")
	_, err = blobs.Get(ctx, "user-1/doc-1", int64(len(doc))-1)
	require.ErrorContains(t, err, "larger than")

	page := []byte("<html><body>fetched</body></html>")
	require.NoError(t, blobs.Put(ctx, "user-1/doc-2", page))
	got, err = blobs.Get(ctx, "user-1/doc-2", 1<<20)
	require.NoError(t, err)
	require.Equal(t, page, got)

	_, err = blobs.Get(ctx, "user-1/missing", 1<<20)
	require.ErrorIs(t, err, knowledge.ErrBlobNotFound)
	require.NoError(t, blobs.Delete(ctx, "user-1/doc-1"))
	_, err = blobs.Get(ctx, "user-1/doc-1", 1<<20)
	require.ErrorIs(t, err, knowledge.ErrBlobNotFound)
}
