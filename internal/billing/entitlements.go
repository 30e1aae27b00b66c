package billing

import (
	"context"
	"fmt"
	"strings"

	"github.com/inkgraph/inkgraph/models"
)

// Feature gating has one source, the tier matrix (models.FeaturesOf), and one door:
// later areas ask Allowed(ctx, userID, feature) and get a reason when not. The tier
// is the user's effective one: a subscription past due beyond its grace counts as
// free before the grace sweep has run.

// Allowed says whether the user may have the feature in the amount asked (for a
// metered feature, the total they would have, e.g. models.Agents(4)).
func (s *Service) Allowed(ctx context.Context, userID string, f models.Feature) (models.Decision, error) {
	if !f.Key.Valid() {
		return models.Decision{}, models.InvalidInput("feature", "unknown feature %q", f.Key)
	}
	if f.Amount < 0 {
		return models.Decision{}, models.InvalidInput("amount", "amount must not be negative, got %d", f.Amount)
	}
	st, err := s.standing(ctx, userID)
	if err != nil {
		return models.Decision{}, err
	}
	return Decide(st.tier, f, st.note), nil
}

// Entitlements lists every feature as the user's effective tier has it.
func (s *Service) Entitlements(ctx context.Context, userID string) ([]*models.Entitlement, error) {
	st, err := s.standing(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make([]*models.Entitlement, 0, len(models.FeatureKeys()))
	for _, k := range models.FeatureKeys() {
		d := Decide(st.tier, models.Feature{Key: k}, st.note)
		out = append(out, &models.Entitlement{Feature: k, Allowed: d.Allowed, Limit: d.Limit, Reason: d.Reason, RequiredTier: d.RequiredTier})
	}
	return out, nil
}

// Decide is the gate for a user known to be on tier; note, when not empty, says why
// the user is on it and ends a refusal's reason.
func Decide(tier models.Tier, f models.Feature, note string) models.Decision {
	row := models.FeaturesOf(tier)
	d := models.Decision{Feature: f.Key, Tier: row.Tier, Allowed: row.Allows(f)}
	if limit := row.Limit(f.Key); f.Key.Metered() && limit != models.Unlimited {
		d.Limit = &limit
	}
	if d.Allowed {
		return d
	}
	for _, t := range models.Tiers() {
		if models.FeaturesOf(t).Allows(f) {
			d.RequiredTier = t
			break
		}
	}
	d.Reason = refusal(row, f, d.RequiredTier)
	if note != "" {
		d.Reason += " (" + note + ")"
	}
	return d
}

func refusal(row models.Features, f models.Feature, required models.Tier) string {
	name := featureName(f.Key)
	tier := upper(row.Tier)
	var msg string
	switch limit := row.Limit(f.Key); {
	case !f.Key.Metered() || limit == 0:
		msg = fmt.Sprintf("the %s tier does not include %s", tier, name)
	default:
		msg = fmt.Sprintf("the %s tier allows %s of %s; %s were asked for", tier, amount(f.Key, limit), name, amount(f.Key, max(f.Amount, 1)))
	}
	if required == "" {
		return msg + ", and no tier allows that much"
	}
	return msg + "; " + upper(required) + " does"
}

func featureName(k models.FeatureKey) string {
	switch k {
	case models.FeatureAgents:
		return "chat agents"
	case models.FeatureBatch:
		return "batch runs of playbooks"
	case models.FeatureProviders:
		return "LLM providers"
	case models.FeatureBackup:
		return "backup storage"
	case models.FeatureBYOK:
		return "chat paid with your own provider keys"
	case models.FeatureSSO:
		return "single sign-on"
	}
	return string(k)
}

func amount(k models.FeatureKey, n int64) string {
	if k == models.FeatureBackup {
		return models.FormatBytes(n)
	}
	return fmt.Sprint(n)
}

func upper(t models.Tier) string { return strings.ToUpper(string(t)) }
