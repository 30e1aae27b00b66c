package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
		DB: db, Blobs: &knowledgeBlobs{store: s.blobs},
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
// knowledgePrefix.
type knowledgeBlobs struct {
	store backup.BlobStore
}

func (b *knowledgeBlobs) PresignPut(ctx context.Context, key string, size int64, sum []byte, ttl time.Duration) (*models.SignedRequest, error) {
	return b.store.PresignPut(ctx, knowledgePrefix+key, size, sum, ttl)
}

func (b *knowledgeBlobs) Delete(ctx context.Context, key string) error {
	return b.store.Delete(ctx, knowledgePrefix+key)
}

func (b *knowledgeBlobs) Put(ctx context.Context, key string, data []byte) error {
	return b.store.Put(ctx, knowledgePrefix+key, data)
}

func (b *knowledgeBlobs) Get(ctx context.Context, key string, limit int64) ([]byte, error) {
	r, err := b.store.Read(ctx, knowledgePrefix+key)
	if errors.Is(err, backup.ErrObjectNotFound) {
		return nil, knowledge.ErrBlobNotFound
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readAtMost(r, limit)
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
