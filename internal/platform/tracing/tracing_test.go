package tracing

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestEndpointURL(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	for _, c := range []struct {
		name, proto string
		env         map[string]string
		want        string
	}{
		{"base, http", "http/protobuf", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, "http://collector:4318/v1/traces"},
		{"base with slash, http", "http/protobuf", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"}, "http://collector:4318/v1/traces"},
		{"base, grpc", "grpc", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317"}, "http://collector:4317"},
		{"traces endpoint wins, as given", "http/protobuf", map[string]string{
			"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:4318/custom",
		}, "http://b:4318/custom"},
	} {
		if got := endpointURL(env(c.env), c.proto); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestEnabled: export only when an endpoint is set, and never when switched off.
func TestEnabled(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{map[string]string{}, false},
		{map[string]string{"OTEL_SERVICE_NAME": "x"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://c:4318/v1/traces"}, true},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}, false},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}, false},
	} {
		if got := Enabled(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("Enabled(%v) = %v, want %v", c.env, got, c.want)
		}
	}
}

// TestSetupWithoutEndpointInstallsNoProvider: with no endpoint, Setup leaves the
// global tracer provider as it was (OpenTelemetry's no-op) and its shutdown does
// nothing. Not parallel: Setup sets the global propagator.
func TestSetupWithoutEndpointInstallsNoProvider(t *testing.T) {
	before := otel.GetTracerProvider()
	shutdown, err := Setup(context.Background(), func(string) string { return "" }, "test")
	if err != nil {
		t.Fatal(err)
	}
	if otel.GetTracerProvider() != before {
		t.Fatal("a tracer provider was installed although nothing is to be exported")
	}
	if err := shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, span := Tracer().Start(context.Background(), "x")
	defer span.End()
	if span.IsRecording() {
		t.Fatal("spans record although nothing is exported")
	}
	if !Off(otel.GetTracerProvider()) {
		t.Fatal("Off is false for the global provider with none set")
	}
}

// TestOff: spans are skipped only for the global provider while none is set. It sets
// the process's provider, so it is not parallel, and it is the package's last test.
func TestOff(t *testing.T) {
	sdk := sdktrace.NewTracerProvider()
	t.Cleanup(func() { _ = sdk.Shutdown(context.Background()) })
	for name, tp := range map[string]trace.TracerProvider{"an SDK provider": sdk, "a no-op provider given": noop.NewTracerProvider()} {
		if Off(tp) {
			t.Errorf("Off is true for %s", name)
		}
	}
	taken := otel.GetTracerProvider()
	if !Off(taken) {
		t.Fatal("Off is false for the global provider with none set")
	}
	// A provider set after the global one was taken: the global one's spans are its.
	otel.SetTracerProvider(sdk)
	t.Cleanup(func() { otel.SetTracerProvider(taken) })
	if Off(taken) {
		t.Fatal("Off is true for the global provider once one is set")
	}
	_, span := taken.Tracer("x").Start(context.Background(), "x")
	defer span.End()
	if !span.IsRecording() {
		t.Fatal("the control: the global provider's span records once one is set")
	}
}
