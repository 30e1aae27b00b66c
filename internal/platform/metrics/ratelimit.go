package metrics

import "github.com/prometheus/client_golang/prometheus"

// LimiterErrors counts budget checks the rate limiter could not answer (Redis
// unreachable), by budget (operations, schema, login). Each was let through: the
// limits fail open, so this is the one Inkgraph series that shows Redis down.
var LimiterErrors = register(prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "inkgraph_rate_limiter_errors_total", Help: "Budget checks the rate limiter could not answer (let through), by budget.",
}, []string{"budget"}))
