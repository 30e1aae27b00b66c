// Package tracing sets up OpenTelemetry traces. W3C trace context (traceparent,
// tracestate) is always read from incoming requests and written to outgoing ones, so a
// trace crosses Inkgraph even when Inkgraph exports nothing. Spans are recorded and
// exported with OTLP only when the standard variables ask for it
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, unless
// OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED=true); otherwise the tracer is
// OpenTelemetry's no-op one, whose spans cost a context lookup.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation is the name Inkgraph's spans are recorded under.
const instrumentation = "github.com/inkgraph/inkgraph"

// Tracer returns Inkgraph's tracer (from the global provider Setup installs).
func Tracer() trace.Tracer { return otel.Tracer(instrumentation) }

// unset is OpenTelemetry's global tracer provider while none is set: its spans record
// nothing, yet starting one allocates the span and a context for it.
var unset = otel.GetTracerProvider()

// Off reports whether tp's spans record nothing because tp is the global provider and
// none has been set (Setup sets one when traces are exported): a caller may then skip
// starting its span. It is asked at each span, since a provider may be set after tp
// was taken, and the global one then hands its spans to it. Once one was set, setting
// the global one back (as tests do when they end) is taken for tracing off, though it
// would hand its spans to the provider set before.
func Off(tp trace.TracerProvider) bool {
	return tp == unset && otel.GetTracerProvider() == unset
}

// Enabled reports whether getenv asks for traces to be exported.
func Enabled(getenv func(string) string) bool {
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") || strings.EqualFold(getenv("OTEL_TRACES_EXPORTER"), "none") {
		return false
	}
	return getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Protocol returns the OTLP protocol getenv names: "http/protobuf" (the default) or
// "grpc", or an error naming the variable for anything else.
func Protocol(getenv func(string) string) (string, error) {
	name, p := "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
	if p == "" {
		name, p = "OTEL_EXPORTER_OTLP_PROTOCOL", getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
	}
	switch p {
	case "", "http/protobuf":
		return "http/protobuf", nil
	case "grpc":
		return "grpc", nil
	default:
		return "", fmt.Errorf("%s: want http/protobuf or grpc, got %q", name, p)
	}
}

// Setup installs the W3C propagator and, when getenv asks for it, a tracer provider
// that exports spans with OTLP (the exporter reads the other OTEL_* variables itself:
// headers, timeout, TLS). shutdown flushes what is buffered; it is a no-op when nothing
// is exported.
func Setup(ctx context.Context, getenv func(string) string, version string) (shutdown func(context.Context) error, err error) {
	// W3C trace context only: baggage is not propagated, since nothing reads it and
	// a public client's baggage would otherwise be forwarded to every third party
	// Inkgraph calls (Stripe, S3, LLM providers, websites being analysed).
	otel.SetTextMapPropagator(propagation.TraceContext{})
	if !Enabled(getenv) {
		return func(context.Context) error { return nil }, nil
	}
	proto, err := Protocol(getenv)
	if err != nil {
		return nil, err
	}
	// The exporters read the other OTEL_EXPORTER_OTLP_* settings (headers, timeout,
	// TLS) from the process environment themselves; the endpoint is passed from getenv,
	// so what decided to export also decides where to.
	var exp sdktrace.SpanExporter
	endpoint := endpointURL(getenv, proto)
	if proto == "grpc" {
		exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(endpoint))
	} else {
		exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	}
	if err != nil {
		return nil, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(serviceName(getenv)), semconv.ServiceVersion(version)))
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, err
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	otel.SetTracerProvider(tp)
	return tp.Shutdown, nil
}

// endpointURL is the traces endpoint getenv names, as the specification composes it:
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as given, else OTEL_EXPORTER_OTLP_ENDPOINT with
// /v1/traces appended for HTTP (gRPC takes the base URL as it is).
func endpointURL(getenv func(string) string, proto string) string {
	if u := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"); u != "" {
		return u
	}
	base := getenv("OTEL_EXPORTER_OTLP_ENDPOINT")
	if proto == "grpc" {
		return base
	}
	return strings.TrimSuffix(base, "/") + "/v1/traces"
}

// serviceName is OTEL_SERVICE_NAME, or "inkgraph".
func serviceName(getenv func(string) string) string {
	if n := getenv("OTEL_SERVICE_NAME"); n != "" {
		return n
	}
	return "inkgraph"
}

// Transport wraps rt (http.DefaultTransport when nil) so that every outgoing request
// has a client span and carries traceparent.
func Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt)
}

// TraceID returns the hex trace ID of ctx's span, or "" when there is none.
func TraceID(ctx context.Context) string {
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		return sc.TraceID().String()
	}
	return ""
}
