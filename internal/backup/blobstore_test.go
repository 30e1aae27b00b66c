package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/backup/localhttp"
	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/versitygw"
	"github.com/inkgraph/inkgraph/models"
)

var testSigningKey = []byte("0123456789abcdef0123456789abcdef")

// newLocalStore returns a local store in a temporary directory whose signed URLs an
// httptest server answers, as the real server does.
func newLocalStore(t *testing.T, now func() time.Time) backup.BlobStore {
	t.Helper()
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	store, err := backup.NewLocalStore(backup.LocalConfig{Dir: t.TempDir(), BaseURL: ts.URL, SigningKey: testSigningKey, Now: now})
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle(localhttp.Pattern, localhttp.Handler(store, slog.New(slog.DiscardHandler)))
	h = mux
	return store
}

// newS3Store returns an S3 store over a fresh bucket of a versitygw of its own.
func newS3Store(t *testing.T, now func() time.Time) backup.BlobStore {
	t.Helper()
	gw := versitygw.Start(t)
	bucket := "backups-" + testkit.RandomHex(4)
	store, err := backup.NewS3Store(context.Background(), backup.S3Config{
		Bucket: bucket, Region: versitygw.Region, Endpoint: gw.URL, PathStyle: true,
		AccessKeyID: versitygw.AccessKey, SecretAccessKey: versitygw.SecretKey, Now: now,
	})
	require.NoError(t, err)
	_, err = store.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	require.NoError(t, err)
	return store
}

var blobStores = map[string]func(t *testing.T, now func() time.Time) backup.BlobStore{
	"local": newLocalStore,
	"s3":    newS3Store,
}

// send makes the signed request as a client would: its method, URL and headers,
// with body (nil for none). Content-Length is the body's unless the request's
// headers say otherwise.
func send(t *testing.T, req *models.SignedRequest, body []byte, adjust ...func(*http.Request)) (int, []byte) {
	t.Helper()
	r, err := http.NewRequestWithContext(context.Background(), req.Method, req.URL, bytes.NewReader(body))
	require.NoError(t, err)
	if body == nil {
		r.Body, r.ContentLength = http.NoBody, 0
	}
	for _, h := range req.Headers {
		if strings.EqualFold(h.Name, "Content-Length") {
			continue // Go sends the body's own length
		}
		r.Header.Set(h.Name, h.Value)
	}
	for _, f := range adjust {
		f(r)
	}
	resp, err := http.DefaultClient.Do(r)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, out
}

func header(req *models.SignedRequest, name string) string {
	for _, h := range req.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

// TestBlobStoreContract is what every BlobStore does, run against each with a real
// HTTP client making the signed requests.
func TestBlobStoreContract(t *testing.T) {
	t.Parallel()
	for name, open := range blobStores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clk := testkit.NewClock(time.Now())
			store := open(t, clk.Now)
			ctx := context.Background()
			blob := []byte("an encrypted backup blob, opaque to the server")
			sum := sha256.Sum256(blob)
			const ttl = 15 * time.Minute

			t.Run("put, stat, get, delete", func(t *testing.T) {
				key := "user-1/1700000000000"
				put, err := store.PresignPut(ctx, key, int64(len(blob)), sum[:], ttl)
				require.NoError(t, err)
				require.Equal(t, http.MethodPut, put.Method)
				require.Equal(t, strconv.Itoa(len(blob)), header(put, "Content-Length"), "the length is a header the client must send")
				require.True(t, header(put, "X-Amz-Checksum-Sha256") != "" || header(put, backup.DigestHeader) != "",
					"the checksum is a header the client must send: %+v", put.Headers)
				require.WithinDuration(t, clk.Now().Add(ttl), put.ExpiresAt, time.Second)
				status, body := send(t, put, blob)
				require.Less(t, status, 300, string(body))

				info, err := store.Stat(ctx, key)
				require.NoError(t, err)
				require.Equal(t, int64(len(blob)), info.Size)
				require.Equal(t, sum[:], info.SHA256)

				get, err := store.PresignGet(ctx, key, ttl)
				require.NoError(t, err)
				status, body = send(t, get, nil)
				require.Equal(t, http.StatusOK, status)
				require.Equal(t, blob, body)

				require.NoError(t, store.Delete(ctx, key))
				_, err = store.Stat(ctx, key)
				require.ErrorIs(t, err, backup.ErrObjectNotFound)
				require.NoError(t, store.Delete(ctx, key), "deleting again is fine")
				status, _ = send(t, get, nil)
				require.Equal(t, http.StatusNotFound, status)
			})

			t.Run("the server's own put and read", func(t *testing.T) {
				key := "knowledge/user-1/doc-1"
				_, err := store.Read(ctx, key)
				require.ErrorIs(t, err, backup.ErrObjectNotFound)
				require.NoError(t, store.Put(ctx, key, blob))
				r, err := store.Read(ctx, key)
				require.NoError(t, err)
				got, err := io.ReadAll(r)
				require.NoError(t, err)
				require.NoError(t, r.Close())
				require.Equal(t, blob, got)
				info, err := store.Stat(ctx, key)
				require.NoError(t, err)
				require.Equal(t, sum[:], info.SHA256)
				if s3store, ok := store.(*backup.S3Store); ok {
					// Stat hashes an object S3 holds no checksum of: ask S3 itself.
					head, err := s3store.Client().HeadObject(ctx, &s3.HeadObjectInput{
						Bucket: aws.String(s3store.Bucket()), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled,
					})
					require.NoError(t, err)
					require.Equal(t, base64.StdEncoding.EncodeToString(sum[:]), aws.ToString(head.ChecksumSHA256),
						"stored with its checksum, as an upload is")
				}

				require.NoError(t, store.Put(ctx, key, []byte("replaced")), "a put replaces")
				r, err = store.Read(ctx, key)
				require.NoError(t, err)
				got, err = io.ReadAll(r)
				require.NoError(t, err)
				require.NoError(t, r.Close())
				require.Equal(t, "replaced", string(got))

				require.Error(t, store.Put(ctx, "../escape", blob), "keys the server builds only")
				_, err = store.Read(ctx, "../escape")
				require.ErrorIs(t, err, backup.ErrObjectNotFound)
				require.NoError(t, store.Delete(ctx, key))
				_, err = store.Read(ctx, key)
				require.ErrorIs(t, err, backup.ErrObjectNotFound)
			})

			refused := func(t *testing.T, key string, status int, body []byte) {
				t.Helper()
				require.GreaterOrEqual(t, status, 400, string(body))
				require.Less(t, status, 500, string(body))
				_, err := store.Stat(ctx, key)
				require.ErrorIs(t, err, backup.ErrObjectNotFound, "nothing is stored")
			}

			t.Run("expired URL", func(t *testing.T) {
				key := "user-1/1700000000001"
				clk.Set(time.Now().Add(-time.Hour))
				put, err := store.PresignPut(ctx, key, int64(len(blob)), sum[:], ttl)
				clk.Set(time.Now())
				require.NoError(t, err)
				status, body := send(t, put, blob)
				refused(t, key, status, body)
				require.Equal(t, http.StatusForbidden, status)
			})

			t.Run("body other than the checksum", func(t *testing.T) {
				key := "user-1/1700000000002"
				put, err := store.PresignPut(ctx, key, int64(len(blob)), sum[:], ttl)
				require.NoError(t, err)
				other := bytes.ToUpper(blob) // same length, other bytes
				status, body := send(t, put, other)
				refused(t, key, status, body)
			})

			t.Run("checksum header other than the signed one", func(t *testing.T) {
				key := "user-1/1700000000003"
				put, err := store.PresignPut(ctx, key, int64(len(blob)), sum[:], ttl)
				require.NoError(t, err)
				other := bytes.ToUpper(blob)
				otherSum := sha256.Sum256(other)
				forged, err := store.PresignPut(ctx, "user-1/forged", int64(len(other)), otherSum[:], ttl)
				require.NoError(t, err)
				status, body := send(t, put, other, func(r *http.Request) {
					for _, h := range forged.Headers {
						if !strings.EqualFold(h.Name, "Content-Length") {
							r.Header.Set(h.Name, h.Value) // the other body's checksum
						}
					}
				})
				refused(t, key, status, body)
			})

			t.Run("wrong size", func(t *testing.T) {
				key := "user-1/1700000000004"
				put, err := store.PresignPut(ctx, key, int64(len(blob)), sum[:], ttl)
				require.NoError(t, err)
				status, body := send(t, put, append(blob, '!'))
				refused(t, key, status, body)
				status, body = send(t, put, blob[:len(blob)-1])
				refused(t, key, status, body)
			})

			t.Run("tampered signature", func(t *testing.T) {
				key := "user-1/1700000000005"
				put, err := store.PresignPut(ctx, key, int64(len(blob)), sum[:], ttl)
				require.NoError(t, err)
				tampered := *put
				tampered.URL = tamper(t, put.URL)
				status, body := send(t, &tampered, blob)
				refused(t, key, status, body)
				require.Equal(t, http.StatusForbidden, status)

				// A signature for one key does not open another.
				moved := *put
				moved.URL = strings.Replace(put.URL, "1700000000005", "1700000000006", 1)
				status, body = send(t, &moved, blob)
				require.Equal(t, http.StatusForbidden, status, string(body))
				_, err = store.Stat(ctx, "user-1/1700000000006")
				require.ErrorIs(t, err, backup.ErrObjectNotFound)
			})

			t.Run("keys that could escape are refused", func(t *testing.T) {
				for _, key := range []string{"../x", "user-1/../../etc/passwd", "/abs", "a//b", "a/./b", "a\x00b", "a/b/", ""} {
					_, err := store.PresignPut(ctx, key, 1, sum[:], ttl)
					require.Error(t, err, "%q", key)
					_, err = store.PresignGet(ctx, key, ttl)
					require.Error(t, err, "%q", key)
					require.Error(t, store.Delete(ctx, key), "%q", key)
				}
			})
		})
	}
}

// tamper flips one hex digit of the URL's signature parameter, whatever the store
// calls it.
func tamper(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	for _, name := range []string{"X-Amz-Signature", "signature"} {
		if v := q.Get(name); v != "" {
			flipped := []byte(v)
			if flipped[0] == '0' {
				flipped[0] = '1'
			} else {
				flipped[0] = '0'
			}
			q.Set(name, string(flipped))
			u.RawQuery = q.Encode()
			return u.String()
		}
	}
	t.Fatalf("no signature in %s", raw)
	return ""
}
