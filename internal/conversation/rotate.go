package conversation

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// RotationResult reports what RotateKeys did.
type RotationResult struct {
	Current int
	// Titles and Messages count the values re-sealed with the current version.
	Titles, Messages int
	// Failed counts values that could not be opened (their version is not in the
	// ring, or the value is damaged); they are left as they are.
	Failed int
	Passes int
	// ByVersion counts stored sealed values (titles and messages) per key version
	// after the rotation.
	ByVersion map[int]int
}

// rotationBatch is how many titles and as many messages one pass re-seals, in one
// transaction.
const rotationBatch = 200

// maxRotationPasses bounds the passes: values keep appearing under an older version
// only while an instance seals with an older ring, which the CONFLICT then says.
const maxRotationPasses = 10_000

// RotateKeys re-seals every stored title and message not sealed with the ring's
// current version, in passes of a batch each, each its own transaction, until a pass
// finds nothing left. A value changed meanwhile (a rename) is left to the next pass.
func (s *Service) RotateKeys(ctx context.Context) (*RotationResult, error) {
	ring := s.sealingRing(ctx)
	r := &RotationResult{Current: ring.Current()}
	failedTitles, failedMessages := map[string]bool{}, map[string]bool{}
	for {
		r.Passes++
		found := 0
		err := database.RunInTx(ctx, s.d.DB, func(ctx context.Context, tx bun.Tx) error {
			titles, err := findConversationsNotSealedWith(ctx, tx, r.Current, rotationBatch+len(failedTitles))
			if err != nil {
				return err
			}
			for _, c := range titles {
				if failedTitles[c.ID] {
					continue
				}
				found++
				old := c.SealedTitle
				sealed, err := ring.Reseal(old, titleAAD(c)...)
				if err != nil {
					failedTitles[c.ID] = true
					s.d.Logger.WarnContext(ctx, "cannot reseal conversation title", "conversation_id", c.ID, "error", err)
					continue
				}
				c.SealedTitle, c.KeyVersion = sealed, r.Current
				ok, err := resealTitle(ctx, tx, c, old)
				if err != nil {
					return err
				}
				if ok {
					r.Titles++
				}
			}
			msgs, err := findMessagesNotSealedWith(ctx, tx, r.Current, rotationBatch+len(failedMessages))
			if err != nil {
				return err
			}
			for _, m := range msgs {
				key := fmt.Sprintf("%s/%d", m.ConversationID, m.Position)
				if failedMessages[key] {
					continue
				}
				found++
				old := m.SealedContent
				sealed, err := ring.Reseal(old, contentAAD(m)...)
				if err != nil {
					failedMessages[key] = true
					s.d.Logger.WarnContext(ctx, "cannot reseal conversation message", "conversation_id", m.ConversationID, "position", m.Position, "error", err)
					continue
				}
				m.SealedContent, m.KeyVersion = sealed, r.Current
				ok, err := resealContent(ctx, tx, m, old)
				if err != nil {
					return err
				}
				if ok {
					r.Messages++
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if found == 0 {
			break
		}
		if r.Passes == maxRotationPasses {
			return nil, models.Errorf(models.CodeConflict,
				"after %d passes conversations are still being sealed with a version older than %d: give every instance the ring with version %d and run keys rotate again",
				r.Passes, r.Current, r.Current)
		}
	}
	r.Failed = len(failedTitles) + len(failedMessages)
	titles, err := countByVersion(ctx, s.d.DB, (*models.Conversation)(nil))
	if err != nil {
		return nil, err
	}
	msgs, err := countByVersion(ctx, s.d.DB, (*models.ConversationMessage)(nil))
	if err != nil {
		return nil, err
	}
	r.ByVersion = titles
	for v, n := range msgs {
		r.ByVersion[v] += n
	}
	return r, nil
}
