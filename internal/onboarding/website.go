package onboarding

import (
	"context"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// AnalyzeWebsite fetches and analyzes the user's site and saves the result,
// replacing any earlier one. A failed analysis keeps the earlier result.
func (s *Service) AnalyzeWebsite(ctx context.Context, userID, rawURL string) (*models.WebsiteAnalysis, error) {
	if strings.TrimSpace(rawURL) == "" {
		return nil, models.InvalidInput("url", "a website address is required")
	}
	if len(rawURL) > 2048 {
		return nil, models.InvalidInput("url", "the address is longer than 2048 characters")
	}
	a, err := s.Website.Analyze(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	a.UserID = userID
	if err := upsertWebsiteAnalysis(ctx, s.DB, a); err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return a, nil
}
