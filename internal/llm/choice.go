package llm

import "github.com/inkgraph/inkgraph/models"

// Choice is who answers one user's run and who pays for it, chosen once for the run
// so that the provider that answers is the one the run is booked to.
type Choice struct {
	// Provider answers the run.
	Provider Provider
	// PaidBy is the server (counted against the tier's monthly tokens), the user's
	// own key, or nobody (the offline provider).
	PaidBy models.UsageProvider
	// Tier is the user's tier when the choice was made.
	Tier models.Tier
}
