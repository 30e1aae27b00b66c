package jaeger_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/testkit"
	"github.com/inkgraph/inkgraph/internal/testkit/jaeger"
)

// TestJaegerReceivesOTLP: spans exported over OTLP, by HTTP and by gRPC, come back
// from the query API with their names, parents, kinds, attributes and service.
func TestJaegerReceivesOTLP(t *testing.T) {
	t.Parallel()
	srv := jaeger.Start(t)
	ctx := context.Background()

	for _, proto := range []string{"http/protobuf", "grpc"} {
		t.Run(proto, func(t *testing.T) {
			var exp sdktrace.SpanExporter
			var err error
			if proto == "grpc" {
				exp, err = otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(srv.OTLPGRPC), otlptracegrpc.WithInsecure())
			} else {
				exp, err = otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(srv.OTLPHTTP+"/v1/traces"))
			}
			require.NoError(t, err)
			service := "jaeger-test-" + testkit.RandomHex(4)
			tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
				sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(service))))
			tr := tp.Tracer("test")
			rctx, root := tr.Start(ctx, "root", trace.WithSpanKind(trace.SpanKindServer))
			_, child := tr.Start(rctx, "child", trace.WithSpanKind(trace.SpanKindClient))
			child.SetAttributes(semconv.DBOperationName("SELECT"))
			child.End()
			root.End()
			require.NoError(t, tp.Shutdown(ctx), "flushed")

			spans, err := srv.Trace(ctx, root.SpanContext().TraceID().String())
			require.NoError(t, err)
			require.Len(t, spans, 2, srv.Logs())
			byName := map[string]jaeger.Span{}
			for _, s := range spans {
				byName[s.Name] = s
				require.Equal(t, service, s.Service)
			}
			require.Empty(t, byName["root"].ParentID)
			require.Equal(t, "server", byName["root"].Kind())
			require.Equal(t, root.SpanContext().SpanID().String(), byName["child"].ParentID)
			require.Equal(t, "client", byName["child"].Kind())
			require.Equal(t, "SELECT", byName["child"].Tags["db.operation.name"])

			none, err := srv.Trace(ctx, "0123456789abcdef0123456789abcdef")
			require.NoError(t, err)
			require.Empty(t, none)
		})
	}
}
