// Package localhttp serves the local blob store's signed URLs over HTTP:
// PUT and GET /blobs/{key...}. The URL's signature is the only credential (no bearer
// token): it names the method, key and expiry and, for a PUT, the exact length and
// SHA-256 of the body. It is the only part of the backup area that knows HTTP.
package localhttp

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/inkgraph/inkgraph/internal/backup"
)

// Pattern is what to mount Handler on in an http.ServeMux.
const Pattern = backup.BlobPathPrefix + "{key...}"

// Handler answers signed blob requests: a PUT stores the body when it is the one
// signed (201), a GET streams the blob (with Range support). Refusals: 403 for a
// missing, wrong or expired signature; 411 without a Content-Length; 400 when the
// length or Content-Digest is not the one signed, or the body's SHA-256 differs;
// 404 for a GET of a missing blob. Nothing is stored unless the whole body matched.
func Handler(store *backup.LocalStore, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := strings.TrimPrefix(r.URL.Path, backup.BlobPathPrefix)
		if r.Method != http.MethodPut && r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "PUT, GET, HEAD")
			http.Error(w, "use PUT or GET with a signed URL", http.StatusMethodNotAllowed)
			return
		}
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		grant, err := store.Authorize(method, key, r.URL.Query())
		if err != nil {
			refuse(w, err)
			return
		}
		if method == http.MethodGet {
			serveBlob(w, r, store, key, logger)
			return
		}
		if r.ContentLength < 0 {
			http.Error(w, "send Content-Length: chunked uploads are not accepted", http.StatusLengthRequired)
			return
		}
		err = store.Receive(key, grant, r.ContentLength, r.Header.Get(backup.DigestHeader), r.Body)
		var tooLarge *http.MaxBytesError
		switch {
		case err == nil:
			w.WriteHeader(http.StatusCreated)
		case errors.Is(err, backup.ErrWrongLength), errors.Is(err, backup.ErrWrongDigest), errors.As(err, &tooLarge):
			refuse(w, err)
		default:
			logger.ErrorContext(r.Context(), "store a backup blob", "error", err, "key", key)
			http.Error(w, "the blob could not be stored; try again", http.StatusInternalServerError)
		}
	})
}

func serveBlob(w http.ResponseWriter, r *http.Request, store *backup.LocalStore, key string, logger *slog.Logger) {
	f, err := store.Open(key)
	if errors.Is(err, backup.ErrObjectNotFound) {
		http.Error(w, "no such blob", http.StatusNotFound)
		return
	}
	if err != nil {
		logger.ErrorContext(r.Context(), "open a backup blob", "error", err, "key", key)
		http.Error(w, "the blob could not be read", http.StatusInternalServerError)
		return
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		http.Error(w, "the blob could not be read", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "private, no-store")
	http.ServeContent(w, r, "", info.ModTime(), f)
}

func refuse(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, backup.ErrBadSignature), errors.Is(err, backup.ErrURLExpired):
		http.Error(w, strings.TrimPrefix(err.Error(), "backup: "), http.StatusForbidden)
	default:
		http.Error(w, strings.TrimPrefix(err.Error(), "backup: "), http.StatusBadRequest)
	}
}
