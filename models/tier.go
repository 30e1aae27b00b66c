package models

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Tier is a billing tier. It is stored lowercase and shown in GraphQL as an enum
// (FREE, PRO, POWER, TEAM).
type Tier string

const (
	TierFree  Tier = "free"
	TierPro   Tier = "pro"
	TierPower Tier = "power"
	TierTeam  Tier = "team"
)

// Tiers lists the tiers from cheapest to most capable.
func Tiers() []Tier { return []Tier{TierFree, TierPro, TierPower, TierTeam} }

// Valid reports whether t is one of the known tiers.
func (t Tier) Valid() bool {
	switch t {
	case TierFree, TierPro, TierPower, TierTeam:
		return true
	}
	return false
}

// ParseTier reads a tier in either case ("pro", "PRO").
func ParseTier(s string) (Tier, error) {
	t := Tier(strings.ToLower(s))
	if !t.Valid() {
		return "", InvalidInput("tier", "unknown tier %q: want one of FREE, PRO, POWER, TEAM", s)
	}
	return t, nil
}

// MarshalGQL writes the tier as its GraphQL enum value.
func (t Tier) MarshalGQL(w io.Writer) {
	_, _ = io.WriteString(w, strconv.Quote(strings.ToUpper(string(t))))
}

// UnmarshalGQL reads a GraphQL enum value.
func (t *Tier) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("tier must be a string, got %T", v)
	}
	parsed, err := ParseTier(s)
	if err != nil {
		return err
	}
	*t = parsed
	return nil
}

// Unlimited marks a quota without a ceiling in the feature matrix.
const Unlimited = -1

// Features is what one tier may do. Every area that gates on the tier reads this
// matrix, never its own copy.
type Features struct {
	Tier Tier
	// Agents is how many chat agents the tier may use (Unlimited for all).
	Agents int
	// Batch allows batch runs of playbooks.
	Batch bool
	// Providers is how many LLM providers the tier may configure (Unlimited for all).
	Providers int
	// BackupBytes is the backup storage quota (0 none, Unlimited no ceiling).
	BackupBytes int64
	// BYOK lets the user's own provider keys pay for chat instead of the server's.
	BYOK bool
	// SSO allows single sign-on.
	SSO bool
	// RequestsPerMinute is the rate limit; per seat when PerSeat is set.
	RequestsPerMinute int
	PerSeat           bool
	// MonthlyTokens is how many LLM tokens of the server's own provider the tier may
	// spend in a calendar month (UTC), chat and playbooks together (Unlimited for no
	// ceiling). Tokens paid by the user's own key, or answered offline, do not count.
	MonthlyTokens int64
	// KnowledgeDocuments and KnowledgeBytes are the knowledge quota: how many
	// documents, and how many bytes of them, the user may keep (Unlimited for no
	// ceiling).
	KnowledgeDocuments int
	KnowledgeBytes     int64
}

const (
	megabyte = int64(1) << 20
	gigabyte = int64(1) << 30
)

// FeaturesOf returns the feature matrix row of tier; an unknown tier gets the free row.
func FeaturesOf(tier Tier) Features {
	switch tier {
	case TierPro:
		return Features{Tier: TierPro, Agents: Unlimited, Batch: true, Providers: Unlimited,
			BackupBytes: 5 * gigabyte, RequestsPerMinute: 60, MonthlyTokens: 2_000_000,
			KnowledgeDocuments: 500, KnowledgeBytes: gigabyte}
	case TierPower:
		return Features{Tier: TierPower, Agents: Unlimited, Batch: true, Providers: Unlimited,
			BackupBytes: 50 * gigabyte, BYOK: true, RequestsPerMinute: 120, MonthlyTokens: 10_000_000,
			KnowledgeDocuments: 5000, KnowledgeBytes: 10 * gigabyte}
	case TierTeam:
		return Features{Tier: TierTeam, Agents: Unlimited, Batch: true, Providers: Unlimited,
			BackupBytes: Unlimited, BYOK: true, SSO: true, RequestsPerMinute: 200, PerSeat: true,
			MonthlyTokens: Unlimited, KnowledgeDocuments: Unlimited, KnowledgeBytes: Unlimited}
	default:
		return Features{Tier: TierFree, Agents: 3, Providers: 1, RequestsPerMinute: 20, MonthlyTokens: 100_000,
			KnowledgeDocuments: 20, KnowledgeBytes: 50 * megabyte}
	}
}

// AgentLimit is Agents for GraphQL, where null means unlimited.
func (f Features) AgentLimit() *int { return limit(f.Agents) }

// ProviderLimit is Providers for GraphQL, where null means unlimited.
func (f Features) ProviderLimit() *int { return limit(f.Providers) }

// BackupLimit is BackupBytes for GraphQL, where null means unlimited.
func (f Features) BackupLimit() *int64 {
	if f.BackupBytes == Unlimited {
		return nil
	}
	return &f.BackupBytes
}

// MonthlyTokenLimit is MonthlyTokens for GraphQL, where null means unlimited.
func (f Features) MonthlyTokenLimit() *int64 {
	if f.MonthlyTokens == Unlimited {
		return nil
	}
	return &f.MonthlyTokens
}

func limit(n int) *int {
	if n == Unlimited {
		return nil
	}
	return &n
}
