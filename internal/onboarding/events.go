package onboarding

import (
	"context"

	"github.com/inkgraph/inkgraph/models"
)

// notify tells the user's subscribers, on every instance, that their onboarding changed.
func (s *Service) notify(ctx context.Context, userID string) {
	if err := s.Events.Publish(context.WithoutCancel(ctx), progressTopic(userID), []byte("{}")); err != nil {
		s.Logger.ErrorContext(ctx, "publish onboarding progress", "error", err, "user_id", userID)
	}
}

func progressTopic(userID string) string { return "onboarding." + userID }

// ProgressEvents streams the user's progress now and after every change to their
// onboarding, from any server instance, until ctx ends. Each event carries the progress as it is
// when the subscriber reads it, so a burst of changes can arrive as fewer events but
// the last one is always current.
func (s *Service) ProgressEvents(ctx context.Context, userID string) (<-chan *models.OnboardingProgress, error) {
	in, err := s.Events.Subscribe(ctx, progressTopic(userID))
	if err != nil {
		return nil, models.Internal(err, "subscribe to onboarding progress")
	}
	out := make(chan *models.OnboardingProgress, 1)
	go func() {
		defer close(out)
		// The current state first, read after the subscription is in place: a change
		// made before it would otherwise never be shown.
		if p, err := s.stmts.findProgress(ctx, s.DB, userID); err == nil {
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
		} else if ctx.Err() == nil {
			s.Logger.ErrorContext(ctx, "read onboarding progress for subscriber", "error", err)
		}
		for range in {
			// Coalesce what queued up meanwhile: one read answers all of it.
			for drained := false; !drained; {
				select {
				case _, ok := <-in:
					if !ok {
						return
					}
				default:
					drained = true
				}
			}
			p, err := s.stmts.findProgress(ctx, s.DB, userID)
			if err != nil {
				if ctx.Err() == nil {
					s.Logger.ErrorContext(ctx, "read onboarding progress for subscriber", "error", err)
				}
				continue
			}
			select {
			case out <- p:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
