package backup_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/platform/tracing"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/versitygw"
)

// TestS3CallsCarryTraceparent: the store's requests to S3 carry the W3C traceparent
// of the request that made them, and S3 still accepts their signatures (SigV4 does
// not sign the header). A recording proxy sits between the store and versitygw.
func TestS3CallsCarryTraceparent(t *testing.T) {
	t.Parallel()
	_, err := tracing.Setup(context.Background(), func(string) string { return "" }, "test") // the W3C propagator
	require.NoError(t, err)
	gw := versitygw.Start(t)
	target, err := url.Parse(gw.URL)
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []string
	proxy := httputil.NewSingleHostReverseProxy(target) // keeps the Host header the client signed
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.Header.Get("Traceparent"))
		mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	bucket := "traced-" + testkit.RandomHex(4)
	store, err := backup.NewS3Store(context.Background(), backup.S3Config{
		Bucket: bucket, Region: versitygw.Region, Endpoint: srv.URL, PathStyle: true,
		AccessKeyID: versitygw.AccessKey, SecretAccessKey: versitygw.SecretKey,
	})
	require.NoError(t, err)
	_, err = store.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)

	traceID := trace.TraceID{0x5b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: traceID, SpanID: trace.SpanID{0, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}, TraceFlags: trace.FlagsSampled}))
	mu.Lock()
	seen = nil
	mu.Unlock()
	// Not found (not forbidden): S3 checked the signature and looked.
	_, err = store.Stat(ctx, "00000000-0000-0000-0000-000000000000")
	require.ErrorIs(t, err, backup.ErrObjectNotFound)

	mu.Lock()
	defer mu.Unlock()
	require.Len(t, seen, 1)
	require.Regexp(t, `^HEAD 00-`+traceID.String()+`-[0-9a-f]{16}-01$`, seen[0])
}
