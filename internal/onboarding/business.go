package onboarding

import (
	"context"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/internal/platform/database"
	"github.com/inkgraph/inkgraph/models"
)

// BusinessInfoInput is what a user enters about a business without a website. In an
// update, nil fields are left as they are.
type BusinessInfoInput struct {
	BusinessName   *string
	Description    *string
	Industry       *string
	TargetAudience *string
	BusinessGoals  []string
	Products       []string
}

// CreateBusinessInfo saves the user's business information; CONFLICT if it exists.
func (s *Service) CreateBusinessInfo(ctx context.Context, userID string, in BusinessInfoInput) (*models.BusinessInfo, error) {
	now := s.Now()
	b := &models.BusinessInfo{UserID: userID, CreatedAt: now, UpdatedAt: now, BusinessGoals: []string{}, Products: []string{}}
	if in.BusinessName == nil {
		return nil, models.InvalidInput("businessName", "a business name is required")
	}
	if in.Description == nil {
		return nil, models.InvalidInput("description", "a description of the business is required")
	}
	if err := applyBusinessInfo(b, in); err != nil {
		return nil, err
	}
	var err error
	if b.ID, err = newID(); err != nil {
		return nil, err
	}
	err = database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		if _, err := findBusinessInfo(ctx, tx, userID); err == nil {
			return models.Errorf(models.CodeConflict, "business information exists already: update it instead")
		} else if models.ErrorCode(err) != models.CodeNotFound {
			return err
		}
		return insertBusinessInfo(ctx, tx, b)
	})
	if database.IsUniqueViolation(err) {
		return nil, models.Errorf(models.CodeConflict, "business information exists already: update it instead")
	}
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return b, nil
}

// UpdateBusinessInfo changes the fields given; NOT_FOUND when there is none yet.
func (s *Service) UpdateBusinessInfo(ctx context.Context, userID string, in BusinessInfoInput) (*models.BusinessInfo, error) {
	var b *models.BusinessInfo
	err := database.RunInTx(ctx, s.DB, func(ctx context.Context, tx bun.Tx) error {
		// Partial updates read, change and write the row: two at once must not
		// write back each other's stale fields.
		if err := database.LockUser(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		if b, err = findBusinessInfo(ctx, tx, userID); err != nil {
			return err
		}
		if err := applyBusinessInfo(b, in); err != nil {
			return err
		}
		b.UpdatedAt = s.Now()
		return updateBusinessInfo(ctx, tx, b)
	})
	if err != nil {
		return nil, err
	}
	s.notify(ctx, userID)
	return b, nil
}

// DeleteBusinessInfo deletes the user's business information; true when there was
// some. Progress is left as it is: a completed step stays completed.
func (s *Service) DeleteBusinessInfo(ctx context.Context, userID string) (bool, error) {
	ok, err := deleteBusinessInfo(ctx, s.DB, userID)
	if err != nil {
		return false, err
	}
	if ok {
		s.notify(ctx, userID)
	}
	return ok, nil
}

// BusinessInfo returns the user's business information, nil when there is none.
func (s *Service) BusinessInfo(ctx context.Context, userID string) (*models.BusinessInfo, error) {
	return s.Summary(userID).BusinessInfo(ctx)
}

func applyBusinessInfo(b *models.BusinessInfo, in BusinessInfoInput) error {
	set := func(dst *string, v *string, field string, minLen, maxLen int) error {
		if v == nil {
			return nil
		}
		t := strings.TrimSpace(*v)
		if n := utf8.RuneCountInString(t); n < minLen || n > maxLen {
			if minLen > 0 && n < minLen {
				return models.InvalidInput(field, "%s needs at least %d characters", field, minLen)
			}
			return models.InvalidInput(field, "%s is longer than %d characters", field, maxLen)
		}
		*dst = t
		return nil
	}
	if err := set(&b.BusinessName, in.BusinessName, "businessName", 1, 200); err != nil {
		return err
	}
	if err := set(&b.Description, in.Description, "description", 10, 5000); err != nil {
		return err
	}
	if err := set(&b.Industry, in.Industry, "industry", 0, 200); err != nil {
		return err
	}
	if err := set(&b.TargetAudience, in.TargetAudience, "targetAudience", 0, 500); err != nil {
		return err
	}
	var err error
	if in.BusinessGoals != nil {
		if b.BusinessGoals, err = cleanList(in.BusinessGoals, "businessGoals", 20, 200); err != nil {
			return err
		}
	}
	if in.Products != nil {
		if b.Products, err = cleanList(in.Products, "products", 50, 200); err != nil {
			return err
		}
	}
	return nil
}

// cleanList trims items, drops empty ones and duplicates, and bounds the list.
func cleanList(items []string, field string, maxItems, maxLen int) ([]string, error) {
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" || slices.Contains(out, it) {
			continue
		}
		if utf8.RuneCountInString(it) > maxLen {
			return nil, models.InvalidInput(field, "an item of %s is longer than %d characters", field, maxLen)
		}
		out = append(out, it)
	}
	if len(out) > maxItems {
		return nil, models.InvalidInput(field, "%s holds at most %d items", field, maxItems)
	}
	return out, nil
}
