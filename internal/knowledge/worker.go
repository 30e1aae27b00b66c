package knowledge

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// Run is the ingestion worker: it claims queued jobs (and jobs whose worker stopped,
// once their lease expired: after a restart, or on another instance) one at a time
// until ctx ends. internal/app starts one per instance.
func (s *Service) Run(ctx context.Context) error {
	// Jobs queued on other instances wake this one through the bus; the poll is the
	// fallback for a missed event and for expired leases.
	others, err := s.events.Subscribe(ctx, jobsTopic)
	if err != nil {
		s.logger.ErrorContext(ctx, "follow ingestion jobs; polling only", "error", err)
	}
	ticker := time.NewTicker(s.cfg.Poll)
	defer ticker.Stop()
	for {
		for ctx.Err() == nil {
			worked, err := s.Work(ctx)
			if err != nil && ctx.Err() == nil {
				s.logger.ErrorContext(ctx, "ingestion", "error", err)
			}
			if !worked {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
				s.logger.ErrorContext(ctx, "sweep abandoned document uploads", "error", err, "removed", n)
			}
		case <-s.wake:
		case _, ok := <-others:
			if !ok {
				others = nil
			}
		}
	}
}

// Work claims one job and runs it; false when there was none to claim. Errors are
// the worker's own (the database away); a job's failure is recorded on its document.
func (s *Service) Work(ctx context.Context) (bool, error) {
	now := s.now()
	job, found, err := claimJob(ctx, s.db, s.instance, now, now.Add(s.cfg.Lease))
	if err != nil || !found {
		return false, err
	}
	if job.Attempts > s.cfg.MaxAttempts {
		// Its earlier attempts never finished (the process crashed, or lost the lease):
		// one more would likely do the same.
		s.fail(ctx, job.UserID, job.DocumentID, fmt.Sprintf("ingestion was interrupted %d times without finishing", job.Attempts-1))
		return true, nil
	}
	s.runJob(ctx, job)
	return true, nil
}

// renewEvery is how often a running job's lease is extended, whatever step it is at.
func (s *Service) renewEvery() time.Duration { return max(s.cfg.Lease/3, time.Millisecond) }

// holdLease extends owner's lease on the job every renewEvery until stop is
// called, cancelling cancel when the lease is lost (another worker took the job, or
// the document was deleted or queued again).
func (s *Service) holdLease(ctx context.Context, job *jobRow, cancel context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		ticker := time.NewTicker(s.renewEvery())
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
				now := s.now()
				ok, err := renewLease(ctx, s.db, job.DocumentID, s.instance, now, now.Add(s.cfg.Lease))
				if err != nil {
					if ctx.Err() == nil {
						s.logger.WarnContext(ctx, "extend an ingestion lease", "error", err, "document_id", job.DocumentID)
					}
					continue
				}
				if !ok {
					cancel()
					return
				}
			}
		}
	}()
	return func() { close(done); <-finished }
}

// permanent marks an ingestion failure that trying again would not change.
type permanent struct{ reason string }

func (p *permanent) Error() string { return p.reason }

// runJob ingests the job's document. A permanent failure, or the last attempt's,
// marks the document FAILED; a transient one leaves the job to be claimed again
// when its lease expires.
// A panic is recovered, logged and marks the document FAILED. The lease is renewed
// from a goroutine while the job runs, so a long extraction keeps it.
func (s *Service) runJob(parent context.Context, job *jobRow) {
	d, err := findDocument(parent, s.db, job.UserID, job.DocumentID)
	if err != nil {
		return // deleted meanwhile: the job went with it
	}
	ctx, cancel := context.WithCancel(parent)
	defer cancel()
	stop := s.holdLease(ctx, job, cancel)
	defer func() {
		cancel() // the renewal stops even while it waits for the database
		stop()
		if r := recover(); r != nil {
			s.logger.ErrorContext(parent, "ingestion panicked", "panic", r, "stack", string(debug.Stack()), "document_id", d.ID)
			s.fail(parent, d.UserID, d.ID, "an internal error")
		}
	}()
	err = s.ingest(ctx, job, d)
	if err != nil && parent.Err() != nil {
		// The worker stops (shutdown) before the job ended: it goes back to the
		// queue at once, and the interrupted attempt does not count towards
		// MaxAttempts.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(parent), 5*time.Second)
		defer rcancel()
		if err := releaseJob(rctx, s.db, job.DocumentID, s.instance, s.now()); err != nil {
			s.logger.WarnContext(rctx, "give an interrupted ingestion job back", "error", err, "document_id", d.ID)
		}
		return
	}
	if err == nil || errors.Is(err, errLeaseLost) {
		return
	}
	if ctx.Err() != nil {
		return // the lease was lost while it worked
	}
	var p *permanent
	reason := ""
	switch {
	case errors.As(err, &p):
		reason = p.reason
	case job.Attempts >= s.cfg.MaxAttempts:
		reason = fmt.Sprintf("ingestion failed %d times; the last time: %s", job.Attempts, publicReason(err))
	default:
		s.logger.WarnContext(ctx, "ingestion failed; it will be tried again", "error", err, "document_id", d.ID, "attempt", job.Attempts)
		return
	}
	s.logger.InfoContext(ctx, "ingestion failed", "error", err, "document_id", d.ID)
	s.fail(parent, d.UserID, d.ID, reason)
}

// fail marks this worker's job FAILED and its document FAILED with reason, and
// announces it; nothing when the job is no longer this worker's.
func (s *Service) fail(ctx context.Context, userID, docID, reason string) {
	now := s.now()
	failed := false
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		ok, err := finishJob(ctx, tx, docID, s.instance, jobFailed, now)
		if err != nil || !ok {
			return err
		}
		failed = true
		return setState(ctx, tx, userID, docID, models.DocumentFailed, reason, now)
	})
	if err != nil {
		s.logger.ErrorContext(ctx, "record a failed ingestion", "error", err, "document_id", docID)
		return
	}
	if failed {
		s.publish(ctx, userID, models.DocumentIngestion{DocumentID: docID, State: models.DocumentFailed, Error: reason})
	}
}

// publicReason is what a user may read of an error: a *models.Error's message, or a
// generic phrase.
func publicReason(err error) string {
	var me *models.Error
	if errors.As(err, &me) && me.Code != models.CodeInternal {
		return me.Message
	}
	return "an internal error"
}

var errLeaseLost = errors.New("knowledge: the ingestion lease was lost")

// ingest reads, extracts, chunks and embeds the document, then replaces its chunks
// in one transaction under the user's lock.
func (s *Service) ingest(ctx context.Context, job *jobRow, d *models.Document) error {
	if err := s.step(ctx, d, models.DocumentExtracting, 0, 0); err != nil {
		return err
	}
	data, err := s.blobs.Get(ctx, d.BlobKey, s.cfg.MaxFileBytes)
	if errors.Is(err, ErrBlobNotFound) {
		return &permanent{"the document's file is missing from the store"}
	}
	if err != nil {
		return fmt.Errorf("read the document's file: %w", err)
	}
	text, err := extractText(data, d.MediaType)
	if err != nil {
		return &permanent{publicReason(extractionError(err, ""))}
	}
	pieces := chunkText(text, s.cfg.ChunkBytes, s.cfg.OverlapBytes)
	if len(pieces) == 0 {
		return &permanent{"the document has no text"}
	}
	total := len(pieces)
	if err := s.step(ctx, d, models.DocumentEmbedding, 0, total); err != nil {
		return err
	}
	chunks := make([]chunkRow, total)
	dims := 0
	for i := 0; i < total; i += s.cfg.EmbedBatch {
		batch := pieces[i:min(i+s.cfg.EmbedBatch, total)]
		texts := make([]string, len(batch))
		for j, p := range batch {
			texts[j] = embeddable(p.Heading, p.Text)
		}
		vecs, err := s.embedder.Embed(ctx, texts)
		if err != nil {
			return fmt.Errorf("embed chunks: %w", err)
		}
		if len(vecs) != len(batch) {
			return fmt.Errorf("the embedder answered %d vectors for %d texts", len(vecs), len(batch))
		}
		for j, p := range batch {
			if dims == 0 {
				dims = len(vecs[j])
			}
			if len(vecs[j]) != dims || dims == 0 {
				return fmt.Errorf("the embedder answered vectors of %d and %d dimensions", dims, len(vecs[j]))
			}
			chunks[i+j] = chunkRow{
				DocumentID: d.ID, UserID: d.UserID, Position: i + j, Start: p.Start, End: p.End, Heading: p.Heading,
				Content: p.Text, Embedding: encodeVector(vecs[j]), Dimensions: dims,
			}
		}
		done := min(i+s.cfg.EmbedBatch, total)
		if err := s.step(ctx, d, models.DocumentEmbedding, done, total); err != nil {
			return err
		}
	}
	now := s.now()
	err = database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, d.UserID); err != nil {
			return err
		}
		// Deleted, or queued again, while it was embedded: store nothing.
		ok, err := finishJob(ctx, tx, d.ID, s.instance, jobDone, now)
		if err != nil {
			return err
		}
		if !ok {
			return errLeaseLost
		}
		if _, err := deleteChunks(ctx, tx, d.UserID, d.ID); err != nil {
			return err
		}
		if err := insertChunks(ctx, tx, chunks); err != nil {
			return err
		}
		if err := bumpVersion(ctx, tx, d.UserID); err != nil {
			return err
		}
		return markReady(ctx, tx, d, s.embedder.Name(), dims, total, int64(len(text.Text)), now)
	})
	if err != nil {
		return err
	}
	s.publish(ctx, d.UserID, models.DocumentIngestion{DocumentID: d.ID, State: models.DocumentReady, Done: total, Total: total})
	return nil
}

// step records and announces where the ingestion is, extending the lease; it stops
// the ingestion when the lease is no longer this worker's.
func (s *Service) step(ctx context.Context, d *models.Document, state models.DocumentState, done, total int) error {
	now := s.now()
	err := database.RunInTx(ctx, s.db, func(ctx context.Context, tx bun.Tx) error {
		ok, err := heartbeat(ctx, tx, d.ID, s.instance, done, total, now, now.Add(s.cfg.Lease))
		if err != nil {
			return err
		}
		if !ok {
			return errLeaseLost
		}
		if done == 0 {
			return setState(ctx, tx, d.UserID, d.ID, state, "", now)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.publish(ctx, d.UserID, models.DocumentIngestion{DocumentID: d.ID, State: state, Done: done, Total: total})
	return nil
}

// embeddable is the text a chunk's vector is computed from: its heading, which
// tells what the passage is about, then the passage.
func embeddable(heading, text string) string {
	if heading == "" {
		return text
	}
	return heading + "\n\n" + text
}

// encodeVector stores a vector as little-endian float32s.
func encodeVector(v []float32) []byte {
	out := make([]byte, 4*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint32(out[4*i:], math.Float32bits(f))
	}
	return out
}

// decodeVector reads what encodeVector wrote into dst (len(b)/4 floats).
func decodeVector(b []byte, dst []float32) {
	for i := range dst {
		dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
}
