package models

import (
	"time"

	"github.com/uptrace/bun"
)

// Usage counts the tokens and LLM requests of one or more completions: a provider
// reports one completion's tokens (Calls zero), the engine that runs a call counts it
// once, and a run adds its calls up. It is the one run-time usage type; UsageRow is
// its stored form (a day's counters, summed in int64 columns).
type Usage struct {
	PromptTokens     int
	CompletionTokens int
	TotalTokens      int
	// Calls is the number of LLM requests made.
	Calls int
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{
		PromptTokens:     u.PromptTokens + v.PromptTokens,
		CompletionTokens: u.CompletionTokens + v.CompletionTokens,
		TotalTokens:      u.TotalTokens + v.TotalTokens,
		Calls:            u.Calls + v.Calls,
	}
}

// SourceUsage is one source's share of a run's usage: a chat agent ("router" for
// intent classification, "synthesis" for a pipeline's answer) or a playbook.
type SourceUsage struct {
	Source string
	Usage
}

// UsageProvider says who paid for an LLM call: the server's own provider (counted
// against the tier's monthly tokens), the user's own key, or the offline provider.
type UsageProvider string

const (
	UsageServer  UsageProvider = "server"
	UsageBYOK    UsageProvider = "byok"
	UsageOffline UsageProvider = "offline"
)

// UsageRow is one user's LLM use on one day (UTC) from one source (a chat agent such
// as "task", "router" or "synthesis", or "playbook:<id>") through one kind of
// provider. Requests counts runs; Calls counts LLM requests.
type UsageRow struct {
	bun.BaseModel `bun:"table:llm_usage"`

	UserID           string        `bun:"user_id,pk"`
	Day              string        `bun:"day,pk"` // YYYY-MM-DD
	Source           string        `bun:"source,pk"`
	Provider         UsageProvider `bun:"provider,pk"`
	Requests         int64         `bun:"requests,notnull"`
	Calls            int64         `bun:"calls,notnull"`
	PromptTokens     int64         `bun:"prompt_tokens,notnull"`
	CompletionTokens int64         `bun:"completion_tokens,notnull"`
	TotalTokens      int64         `bun:"total_tokens,notnull"`
	UpdatedAt        time.Time     `bun:"updated_at,notnull"`
}

// UsageReport is a user's LLM use over a span of days and the month's quota.
type UsageReport struct {
	From, To string // YYYY-MM-DD, inclusive
	Rows     []*UsageRow
	// MonthTokens is what the server's provider answered this calendar month.
	MonthTokens int64
	// MonthlyTokenLimit is the tier's allowance; nil when unlimited.
	MonthlyTokenLimit *int64
	// ResetsAt is when the month's count starts again.
	ResetsAt time.Time
}

// RemainingTokens is what is left of the month's allowance; nil when unlimited.
func (r *UsageReport) RemainingTokens() *int64 {
	if r.MonthlyTokenLimit == nil {
		return nil
	}
	left := max(*r.MonthlyTokenLimit-r.MonthTokens, 0)
	return &left
}
