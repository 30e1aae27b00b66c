package onboarding

import (
	"context"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// SetIntegrations replaces the integrations the user chose in step 5. Choosing one
// records the wish; connecting it (OAuth) is not part of onboarding.
func (s *Service) SetIntegrations(ctx context.Context, userID string, kinds []string) ([]*models.Integration, error) {
	if len(kinds) > 100 {
		return nil, models.InvalidInput("kinds", "too many integrations")
	}
	now := s.Now()
	rows := make([]*models.Integration, 0, len(kinds))
	var seen []string
	for _, k := range kinds {
		if !slices.Contains(models.IntegrationKinds(), k) {
			return nil, models.InvalidInput("kinds", "unknown integration %q", k)
		}
		if slices.Contains(seen, k) {
			continue
		}
		seen = append(seen, k)
		rows = append(rows, &models.Integration{UserID: userID, Kind: k, Status: "SELECTED", CreatedAt: now})
	}
	slices.SortFunc(rows, func(a, b *models.Integration) int { return strings.Compare(a.Kind, b.Kind) })
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// Delete-then-insert: a concurrent replacement must wait, or the two would
		// merge (or collide on the primary key).
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		return replaceIntegrations(ctx, tx, userID, rows)
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return rows, nil
}
