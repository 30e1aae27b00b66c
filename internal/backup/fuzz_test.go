package backup_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/backup"
)

// FuzzSignedURL edits a valid signed URL of the local store (cuts some bytes at a
// point and inserts others) and checks it the way the blob handler does: the path
// names the key, the query carries the signature. Authorize never panics, and
// whatever it accepts, for any method, is exactly what was signed: the same method,
// key, expiry and, for a PUT, the same length and SHA-256. Edits that change nothing
// signed (the host, the order of the query, an extra parameter, the signature's hex
// case) may pass; no edit can change what the URL allows. The inserted text is also
// checked on its own, as a whole URL.
func FuzzSignedURL(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	store, err := backup.NewLocalStore(backup.LocalConfig{
		Dir: f.TempDir(), BaseURL: "https://api.example.com", SigningKey: testSigningKey,
		Now: func() time.Time { return now },
	})
	if err != nil {
		f.Fatal(err)
	}
	const key = "0190f0d2-5c4e-7a1b-8c3d-2e4f6a8b0c1d/20260101T000000Z"
	body := []byte("a backup")
	sum := sha256.Sum256(body)
	put, err := store.PresignPut(context.Background(), key, int64(len(body)), sum[:], time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	get, err := store.PresignGet(context.Background(), key, time.Hour)
	if err != nil {
		f.Fatal(err)
	}
	signed := map[bool]string{true: put.URL, false: get.URL}
	expires := url.Values{}
	if u, err := url.Parse(get.URL); err == nil {
		expires = u.Query()
	}

	f.Add(true, uint16(0), uint8(0), "", "PUT")
	f.Add(false, uint16(0), uint8(0), "", "GET")
	f.Add(true, uint16(len(put.URL)), uint8(0), "&size=9", "PUT")
	f.Add(true, uint16(strings.Index(put.URL, "size=")+5), uint8(1), "9", "PUT")
	f.Add(false, uint16(strings.Index(get.URL, "/blobs/")+7), uint8(36), "0190f0d2-5c4e-7a1b-8c3d-2e4f6a8b0c1e", "GET")
	f.Add(false, uint16(strings.Index(get.URL, "expires=")+8), uint8(1), "2", "GET")
	f.Add(false, uint16(len(get.URL)-1), uint8(1), "A", "GET")
	f.Add(true, uint16(0), uint8(0), "", "GET")
	f.Add(false, uint16(0), uint8(255), "/blobs/../x?signature=00", "PUT")
	f.Add(false, uint16(0), uint8(0), "%zz", "HEAD")
	f.Fuzz(func(t *testing.T, isPut bool, at uint16, cut uint8, insert, method string) {
		original := signed[isPut]
		p := int(at) % (len(original) + 1)
		edited := original[:p] + insert + original[min(len(original), p+int(cut)):]
		wantMethod := map[bool]string{true: "PUT", false: "GET"}[isPut]
		for _, raw := range []string{edited, insert} {
			u, err := url.Parse(raw)
			if err != nil {
				continue
			}
			gotKey := strings.TrimPrefix(u.Path, backup.BlobPathPrefix)
			q := u.Query()
			for _, m := range []string{method, "GET", "PUT"} {
				g, err := store.Authorize(m, gotKey, q)
				if err != nil {
					continue
				}
				if raw != edited || m != wantMethod || gotKey != key || q.Get("expires") != expires.Get("expires") {
					t.Fatalf("%s %q (edited from %q) was accepted for %s %q", m, raw, original, m, gotKey)
				}
				if isPut && (g.Size != int64(len(body)) || !bytes.Equal(g.SHA256, sum[:])) {
					t.Fatalf("PUT %q (edited from %q) grants %d bytes of %x", raw, original, g.Size, g.SHA256)
				}
			}
		}
	})
}
