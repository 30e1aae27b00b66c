// Package metrics holds Inkgraph's Prometheus collectors, registered once in Registry
// (not the client library's global one), with the Go runtime and process collectors.
// The admin listener serves Registry at /metrics.
//
// Every label here takes values from a small fixed set (a route pattern, a status, a
// tier, an outcome code) or is bounded by Names: a client cannot grow a series count.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Registry is the registry every Inkgraph collector is in, the Go runtime's and the
// process's included.
var Registry = newRegistry()

func newRegistry() *prometheus.Registry {
	r := prometheus.NewRegistry()
	r.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return r
}

// register adds c to Registry and returns it.
func register[C prometheus.Collector](c C) C {
	Registry.MustRegister(c)
	return c
}

// Latency buckets, in seconds: from 1 ms (an answer from memory) to 30 s (a long
// LLM call).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// HTTP.
var (
	// HTTPRequests counts HTTP requests by route pattern (the mux's, never the raw
	// path), method and status code.
	HTTPRequests = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_http_requests_total", Help: "HTTP requests by route, method and status code.",
	}, []string{"route", "method", "status"}))
	// HTTPDuration is the time to the end of a request's response, by route pattern.
	HTTPDuration = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inkgraph_http_request_duration_seconds", Help: "HTTP request duration by route.", Buckets: latencyBuckets,
	}, []string{"route"}))
)

// GraphQL.
var (
	// Operations counts GraphQL operations by name (bounded: see Names), type (query,
	// mutation, subscription) and outcome code ("OK", or the first error's code).
	Operations = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_graphql_operations_total", Help: "GraphQL operations by name, type and outcome code.",
	}, []string{"operation", "type", "code"}))
	// OperationDuration is the time to an operation's (first) response.
	OperationDuration = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inkgraph_graphql_operation_duration_seconds", Help: "GraphQL operation duration by name and type.", Buckets: latencyBuckets,
	}, []string{"operation", "type"}))
	// OpenSockets is the number of open WebSocket connections by subprotocol.
	OpenSockets = register(prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inkgraph_websocket_connections", Help: "Open WebSocket connections by subprotocol.",
	}, []string{"protocol"}))
	// OpenSubscriptions is the number of running subscriptions by transport
	// (websocket, sse) and root field (bounded by the schema).
	OpenSubscriptions = register(prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "inkgraph_subscriptions_open", Help: "Open GraphQL subscriptions by transport and root field.",
	}, []string{"transport", "field"}))
	// RateLimited counts refusals of the per-tier rate limit by tier and budget
	// (operations, schema, login).
	RateLimited = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_rate_limit_refusals_total", Help: "Requests refused by a rate limit, by tier and budget.",
	}, []string{"tier", "budget"}))
)

// LLM runs (chat and playbooks).
var (
	// Runs counts finished LLM runs by kind (chat, playbook) and outcome (ok, error,
	// cancelled, quota).
	Runs = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_llm_runs_total", Help: "Finished chat and playbook runs by kind and outcome.",
	}, []string{"kind", "outcome"}))
	// Tokens counts tokens streamed to clients by kind.
	Tokens = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_llm_tokens_streamed_total", Help: "Tokens streamed to clients, by run kind.",
	}, []string{"kind"}))
	// FirstToken is the time from a call's start to its first token, by provider.
	FirstToken = register(prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "inkgraph_llm_first_token_seconds", Help: "Time to an LLM call's first token, by provider.", Buckets: latencyBuckets,
	}, []string{"provider"}))
	// UpstreamErrors counts failed LLM calls by provider and reason (timeout, status,
	// connection, protocol).
	UpstreamErrors = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_llm_upstream_errors_total", Help: "Failed LLM upstream calls by provider and reason.",
	}, []string{"provider", "reason"}))
	// ToolApprovals counts chat tool calls that needed the user's approval, by what
	// became of them (approved, declined, expired, ended, unattended, failed).
	ToolApprovals = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_chat_tool_approvals_total", Help: "Chat tool calls that needed the user's approval, by decision.",
	}, []string{"decision"}))
)

// Platform and third parties.
var (
	// BusReconnects counts the events bus's LISTEN connection coming back after a loss.
	BusReconnects = register(prometheus.NewCounter(prometheus.CounterOpts{
		Name: "inkgraph_events_bus_reconnects_total", Help: "Times the events bus's LISTEN connection was re-established.",
	}))
	// WebhookEvents counts Stripe webhook deliveries by event type (bounded: types
	// billing does not handle count as "other") and result (applied, duplicate,
	// ignored, rejected, failed).
	WebhookEvents = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_stripe_webhook_events_total", Help: "Stripe webhook deliveries by event type and result.",
	}, []string{"type", "result"}))
	// BackupBytes counts the bytes of completed backups, by store (local, s3).
	BackupBytes = register(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "inkgraph_backup_bytes_stored_total", Help: "Bytes of completed backups, by store.",
	}, []string{"store"}))
)
