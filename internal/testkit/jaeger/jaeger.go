// Package jaeger runs Jaeger v2, a real OpenTelemetry trace receiver and store, for
// tests: the pinned version of the tools/jaeger module (built from the Go module proxy
// once by `go tool`, then reused from Go's build cache), with in-memory storage, an
// OTLP receiver (HTTP and gRPC) and the query API on free loopback ports, for one
// test, stopped when the test ends. A test exports spans to it with OTLP and reads
// them back by trace ID.
package jaeger

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

const (
	// buildTimeout covers a first build on a small machine (about 15 minutes on two
	// busy cores); CI builds it before the tests (go -C tools/jaeger tool -n jaeger).
	buildTimeout = 30 * time.Minute
	startTimeout = 30 * time.Second
	startTries   = 3
)

// Server is a running Jaeger.
type Server struct {
	// OTLPHTTP is the OTLP/HTTP receiver's base URL (http://127.0.0.1:<port>), what
	// OTEL_EXPORTER_OTLP_ENDPOINT names; spans go to OTLPHTTP + "/v1/traces".
	OTLPHTTP string
	// OTLPGRPC is the OTLP/gRPC receiver's address, as http://127.0.0.1:<port>.
	OTLPGRPC string
	// Query is the query API's base URL.
	Query string

	logs *testkit.SyncBuffer
}

// Start runs Jaeger for the test, building it first if needed, or skips the test
// when it cannot (fails it under REQUIRE_SERVICES=1).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		testkit.Unavailable(t, "Jaeger", err)
		return nil
	}
	var errs []error
	// Ports are picked free and then handed over, so another process may take one
	// meanwhile: try again on new ones.
	for range startTries {
		srv, err := start(t, bin)
		if err == nil {
			return srv
		}
		errs = append(errs, err)
	}
	testkit.Unavailable(t, "Jaeger", errors.Join(errs...))
	return nil
}

// Binary returns the path of the pinned Jaeger: `go tool -n jaeger` in the
// tools/jaeger module, which builds it into Go's build cache the first time.
func Binary() (string, error) { return testkit.ModuleTool("jaeger", buildTimeout) }

// config is Jaeger's: in-memory storage, the OTLP receiver straight into it (no
// batching, so an export that returned is stored), the query API, and no telemetry
// of its own on a fixed port.
const config = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_query:
    storage:
      traces: mem
    http:
      endpoint: %s
    grpc:
      endpoint: %s
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 10000
receivers:
  otlp:
    protocols:
      http:
        endpoint: %s
      grpc:
        endpoint: %s
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

func freePorts(n int) ([]string, error) {
	addrs := make([]string, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		lns = append(lns, ln)
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// start runs bin on free loopback ports and waits until both the query API and the
// OTLP/HTTP receiver answer.
func start(t testing.TB, bin string) (*Server, error) {
	ports, err := freePorts(4)
	if err != nil {
		return nil, err
	}
	queryHTTP, queryGRPC, otlpHTTP, otlpGRPC := ports[0], ports[1], ports[2], ports[3]
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "jaeger.yaml")
	if err := os.WriteFile(cfgPath, fmt.Appendf(nil, config, queryHTTP, queryGRPC, otlpHTTP, otlpGRPC), 0o600); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Dir = dir
	// Jaeger's own SDK must not trace itself to whatever the test's OTEL_* say.
	env := []string{"OTEL_SDK_DISABLED=true", "OTEL_TRACES_EXPORTER=none"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OTEL_") {
			env = append(env, kv)
		}
	}
	cmd.Env = env
	p, err := testkit.StartProcess(cmd, nil)
	if err != nil {
		return nil, err
	}
	logs, exited, stop := p.Logs, p.Exited, p.Stop
	srv := &Server{OTLPHTTP: "http://" + otlpHTTP, OTLPGRPC: "http://" + otlpGRPC, Query: "http://" + queryHTTP, logs: logs}
	if err := srv.ready(exited); err != nil {
		stop()
		return nil, fmt.Errorf("jaeger (query %s, OTLP %s) not ready: %w\n%s", queryHTTP, otlpHTTP, err, logs.String())
	}
	t.Cleanup(stop)
	return srv, nil
}

// ready waits until the query API answers and the OTLP/HTTP receiver accepts an
// empty export, giving up when the process exits or startTimeout passes.
func (s *Server) ready(exited <-chan struct{}) error {
	return testkit.WaitReady(exited, startTimeout, 50*time.Millisecond, s.ask)
}

func (s *Server) ask(ctx context.Context) error {
	if err := do(ctx, http.MethodGet, s.Query+"/api/services", nil, nil); err != nil {
		return err
	}
	// An empty ExportTraceServiceRequest is valid protobuf: zero bytes.
	return do(ctx, http.MethodPost, s.OTLPHTTP+"/v1/traces", bytes.NewReader(nil), nil)
}

// do sends one request and decodes a 200 answer's JSON into out (when not nil).
func do(ctx context.Context, method, url string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-protobuf")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &statusError{method: method, url: url, status: resp.StatusCode, body: string(b)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type statusError struct {
	method, url, body string
	status            int
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.method, e.url, e.status, e.body)
}

// Logs is what Jaeger printed so far, for a failing test's message.
func (s *Server) Logs() string { return s.logs.String() }

// Span is one span of a trace as Jaeger stored it.
type Span struct {
	TraceID  string
	SpanID   string
	ParentID string // "" for a root
	Name     string
	Service  string
	// Tags are the span's attributes, plus span.kind, otel.status_code and error.
	Tags map[string]any
}

// Kind is the span's kind ("server", "client", "internal", …).
func (s Span) Kind() string {
	k, _ := s.Tags["span.kind"].(string)
	return k
}

// Trace returns the spans Jaeger holds for traceID (32 hex digits), none when it
// holds no such trace.
func (s *Server) Trace(ctx context.Context, traceID string) ([]Span, error) {
	var resp struct {
		Data []struct {
			Spans []struct {
				TraceID       string `json:"traceID"`
				SpanID        string `json:"spanID"`
				OperationName string `json:"operationName"`
				ProcessID     string `json:"processID"`
				References    []struct {
					RefType string `json:"refType"`
					TraceID string `json:"traceID"`
					SpanID  string `json:"spanID"`
				} `json:"references"`
				Tags []struct {
					Key   string `json:"key"`
					Value any    `json:"value"`
				} `json:"tags"`
			} `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		} `json:"data"`
	}
	err := do(ctx, http.MethodGet, s.Query+"/api/traces/"+traceID, nil, &resp)
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var spans []Span
	for _, tr := range resp.Data {
		for _, sp := range tr.Spans {
			out := Span{TraceID: sp.TraceID, SpanID: sp.SpanID, Name: sp.OperationName,
				Service: tr.Processes[sp.ProcessID].ServiceName, Tags: map[string]any{}}
			for _, ref := range sp.References {
				if ref.RefType == "CHILD_OF" {
					out.ParentID = ref.SpanID
				}
			}
			for _, tag := range sp.Tags {
				out.Tags[tag.Key] = tag.Value
			}
			spans = append(spans, out)
		}
	}
	return spans, nil
}
