package app

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/backup"
	"github.com/inkgraph/inkgraph/internal/knowledge"
	"github.com/inkgraph/inkgraph/internal/onboarding/website"
	"github.com/inkgraph/inkgraph/internal/platform/config"
	"github.com/inkgraph/inkgraph/internal/platform/events"
	"github.com/inkgraph/inkgraph/models"
)

// knowledgePrefix is where knowledge documents live in the blob store, apart from
// backups (whose keys start with a user ID).
const knowledgePrefix = "knowledge/"

// newKnowledge builds the knowledge area over the backup blob store (under
// knowledgePrefix), a website fetcher of its own (the analysis's guard, with the
// knowledge size limit) and the configured embedder, and starts its ingestion
// worker, stopped by Close.
func (s *Services) newKnowledge(ctx context.Context, cfg config.Config, db *bun.DB, bus events.Bus, tiers knowledge.Tiers, logger *slog.Logger) error {
	fetcher := website.New(website.Config{
		Timeout: cfg.FetchTimeout, MaxBytes: cfg.KnowledgeMaxBytes, Allow: cfg.FetchAllow,
		UserAgent: "InkgraphBot/1.0 (+knowledge documents)",
	}, nil, logger)
	svc, err := knowledge.NewService(knowledge.Config{MaxFileBytes: cfg.KnowledgeMaxBytes}, knowledge.Deps{
		DB: db, Blobs: &knowledgeBlobs{store: s.blobs, local: s.LocalBlobs, client: &http.Client{Timeout: 5 * time.Minute}},
		Fetcher: knowledgeFetcher{fetcher}, Tiers: tiers, Events: bus, Embedder: newEmbedder(cfg), Logger: logger, Now: time.Now,
	})
	if err != nil {
		return fmt.Errorf("knowledge: %w", err)
	}
	work, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(work)
	}()
	s.closers = append(s.closers, func() error { stop(); <-done; return nil })
	s.Knowledge = svc
	return nil
}

// knowledgeFetcher is the website fetcher as knowledge's Fetcher.
type knowledgeFetcher struct{ a *website.Analyzer }

func (f knowledgeFetcher) Fetch(ctx context.Context, rawURL string) (*knowledge.Fetched, error) {
	p, err := f.a.Fetch(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	return &knowledge.Fetched{URL: p.URL, MediaType: p.MediaType, Body: p.Body}, nil
}

// knowledgeBlobs is the backup blob store as knowledge's Blobs, every key under
// knowledgePrefix. The server's own reads and writes go to the local directory
// directly, or to S3 through signed requests.
type knowledgeBlobs struct {
	store  backup.BlobStore
	local  *backup.LocalStore // nil with S3
	client *http.Client
}

const ownRequestTTL = 5 * time.Minute

func (b *knowledgeBlobs) PresignPut(ctx context.Context, key string, size int64, sum []byte, ttl time.Duration) (*models.SignedRequest, error) {
	return b.store.PresignPut(ctx, knowledgePrefix+key, size, sum, ttl)
}

func (b *knowledgeBlobs) Delete(ctx context.Context, key string) error {
	return b.store.Delete(ctx, knowledgePrefix+key)
}

func (b *knowledgeBlobs) Put(ctx context.Context, key string, data []byte) error {
	key = knowledgePrefix + key
	sum := sha256.Sum256(data)
	req, err := b.store.PresignPut(ctx, key, int64(len(data)), sum[:], ownRequestTTL)
	if err != nil {
		return err
	}
	if b.local != nil {
		u, err := url.Parse(req.URL)
		if err != nil {
			return err
		}
		g, err := b.local.Authorize(http.MethodPut, key, u.Query())
		if err != nil {
			return err
		}
		return b.local.Receive(key, g, int64(len(data)), "sha-256=:"+base64.StdEncoding.EncodeToString(sum[:])+":", bytes.NewReader(data))
	}
	_, err = b.do(ctx, req, data, 0)
	return err
}

func (b *knowledgeBlobs) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	key = knowledgePrefix + key
	if b.local != nil {
		f, err := b.local.Open(key)
		if errors.Is(err, backup.ErrObjectNotFound) {
			return nil, knowledge.ErrBlobNotFound
		}
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readAtMost(f, limit)
	}
	req, err := b.store.PresignGet(ctx, key, ownRequestTTL)
	if err != nil {
		return nil, err
	}
	return b.do(ctx, req, nil, limit)
}

// do sends a signed request to S3 and reads at most limit bytes of its answer.
func (b *knowledgeBlobs) do(ctx context.Context, signed *models.SignedRequest, body []byte, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, signed.Method, signed.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for _, h := range signed.Headers {
		if strings.EqualFold(h.Name, "Content-Length") {
			continue // the body sets it
		}
		req.Header.Set(h.Name, h.Value)
	}
	if body != nil {
		req.ContentLength = int64(len(body))
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, knowledge.ErrBlobNotFound
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("blob store answered %s", resp.Status)
	}
	if limit == 0 {
		return nil, nil
	}
	return readAtMost(resp.Body, limit)
}

// readAtMost reads r whole, refusing more than limit bytes.
func readAtMost(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the object is larger than %d bytes", limit)
	}
	return data, nil
}
