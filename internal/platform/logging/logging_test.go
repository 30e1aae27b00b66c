package logging_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/platform/logging"
)

func TestNewIDIsUniqueAndPlain(t *testing.T) {
	t.Parallel()
	const workers, each = 8, 5000
	ids := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				ids <- logging.NewID()
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		require.Len(t, id, 16)
		for _, c := range id {
			require.Contains(t, "0123456789abcdef", string(c), id)
		}
		require.False(t, seen[id], "duplicate ID %s", id)
		seen[id] = true
	}
}

func TestRecordsCarryTheContextIDs(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := logging.New(&buf, slog.LevelInfo)
	ctx := logging.WithOperationID(logging.WithRequestID(context.Background(), "req-1"), "op-1")

	logger.InfoContext(ctx, "no trace")
	line := decode(t, &buf)
	require.Equal(t, "req-1", line["request_id"])
	require.Equal(t, "op-1", line["operation_id"])
	require.NotContains(t, line, "trace_id", "no span context: no trace ID")

	traceID, err := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	require.NoError(t, err)
	spanID, err := trace.SpanIDFromHex("b7ad6b7169203331")
	require.NoError(t, err)
	// A caller's traceparent, not recorded here, still names the trace.
	ctx = trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID, SpanID: spanID}))
	logger.With("k", "v").InfoContext(ctx, "traced")
	line = decode(t, &buf)
	require.Equal(t, traceID.String(), line["trace_id"])
	require.Equal(t, "v", line["k"])

	logger.DebugContext(ctx, "below the level")
	require.Zero(t, buf.Len())
}

func decode(t *testing.T, buf *bytes.Buffer) map[string]any {
	t.Helper()
	var line map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &line), buf.String())
	buf.Reset()
	return line
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = logging.NewID()
	}
}
