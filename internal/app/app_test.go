package app_test

import (
	"context"
	"encoding/pem"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/app"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/internal/testkit"
)

// TestS3BackupsWithACABundle: backups on S3 build when AWS_CA_BUNDLE names a CA
// bundle (a private CA in front of MinIO, or a machine that sets it for everything):
// the SDK applies a bundle only to its own HTTP client, and refuses to start with any
// other. Not parallel: it sets the process's environment, which the SDK reads.
func TestS3BackupsWithACABundle(t *testing.T) {
	ca := httptest.NewTLSServer(http.NotFoundHandler())
	ca.Close()
	bundle := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Certificate().Raw}), 0o600))
	t.Setenv("AWS_CA_BUNDLE", bundle)

	cfg, err := config.Load(nil, func(string) string { return "" })
	require.NoError(t, err)
	cfg.JWTSecret = []byte("test-secret-test-secret-test-secret!")
	cfg.Keyring = "1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	cfg.BackupStore = config.BackupStoreS3
	cfg.S3Bucket, cfg.S3Endpoint, cfg.S3PathStyle = "backups", "https://127.0.0.1:1", true
	cfg.S3AccessKeyID, cfg.S3SecretAccessKey = "key", "secret"
	logger := slog.New(slog.DiscardHandler)
	bus := events.NewMemory(logger)
	t.Cleanup(func() { _ = bus.Close() })

	svc, err := app.NewServices(context.Background(), cfg, testkit.NewDB(t, testkit.SQLite), bus, logger)
	require.NoError(t, err)
	t.Cleanup(func() { _ = svc.Close() })
	require.NotNil(t, svc.Backups)
	require.Nil(t, svc.LocalBlobs, "S3 answers its own URLs")
}
