package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/inkgraph/inkgraph/models"
)

// Run kinds: the kind label of Runs and Tokens.
const (
	KindChat     = "chat"
	KindPlaybook = "playbook"
)

// Run outcomes: the outcome label of Runs.
const (
	// OutcomeOK is a run that ended with its answer (DONE).
	OutcomeOK = "ok"
	// OutcomeError is a run that ended with an ERROR sent to its client, a
	// shutdown's interruption included.
	OutcomeError = "error"
	// OutcomeCancelled is a run whose client went away before its end.
	OutcomeCancelled = "cancelled"
	// OutcomeQuota is a run refused or ended because the month's tokens were spent
	// (QUOTA_EXCEEDED), counted whether it was refused before it began or not.
	OutcomeQuota = "quota"
)

// Upstream error reasons: the reason label of UpstreamErrors.
const (
	// ReasonTimeout: the provider sent nothing within the timeout (first byte or a
	// silence in a stream).
	ReasonTimeout = "timeout"
	// ReasonRateLimited: the provider answered 429.
	ReasonRateLimited = "rate_limited"
	// ReasonStatus: the provider answered another HTTP error status, or an error
	// event in a stream.
	ReasonStatus = "status"
	// ReasonConnection: the provider could not be reached, or the connection broke
	// off mid-answer.
	ReasonConnection = "connection"
	// ReasonProtocol: the answer did not follow the wire format (chunks that do not
	// fit together, a stream without a finish reason, no choices).
	ReasonProtocol = "protocol"
	// ReasonAnswer: the answer was well formed but unusable (a refusal, not the JSON
	// object asked for).
	ReasonAnswer = "answer"
)

// TokensOf returns the Tokens counter of kind, resolved once: a run adds its count
// at its end rather than looking the series up per token.
func TokensOf(kind string) prometheus.Counter { return Tokens.WithLabelValues(kind) }

// FailedOutcome is the outcome of a run that ended with err: quota when the month's
// tokens were spent, else error.
func FailedOutcome(err error) string {
	if models.ErrorCode(err) == models.CodeQuotaExceeded {
		return OutcomeQuota
	}
	return OutcomeError
}

// RunEnded counts one run of kind with outcome.
func RunEnded(kind, outcome string) { Runs.WithLabelValues(kind, outcome).Inc() }

// Upstream counts one failed call to provider for reason.
func Upstream(provider, reason string) { UpstreamErrors.WithLabelValues(provider, reason).Inc() }
