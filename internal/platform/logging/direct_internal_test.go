package logging

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/trace"
)

// TestDirectWritesWhatSlogWrites: a record Log writes itself has the bytes slog's
// JSON handler gives the same record, the context's IDs included; a record it cannot
// write so is left to slog, having written nothing.
func TestDirectWritesWhatSlogWrites(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 1, 2, 3, 456789000, time.FixedZone("X", 3600))
	ctx := WithOperationID(WithRequestID(context.Background(), "req-1"), "op-1")
	traceID, err := trace.TraceIDFromHex("0af7651916cd43dd8448eb211c80319c")
	require.NoError(t, err)
	traced := trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: traceID}))
	tests := []struct {
		name   string
		ctx    context.Context
		level  slog.Level
		msg    string
		attrs  []slog.Attr
		direct bool
	}{
		{"access line", ctx, slog.LevelInfo, "http request", []slog.Attr{
			slog.String("method", "POST"), slog.String("path", "/graphql"), slog.String("client", "127.0.0.1"),
			slog.Int("status", 200), slog.Int("bytes", 85), slog.Int64("duration_us", 1234),
			slog.String("operation_id", "abc"), slog.String("operation_name", ""), slog.String("operation_type", "query"),
			slog.String("operation_code", ""),
		}, true},
		{"traced, no request", traced, slog.LevelWarn + 2, "m <&> ok", []slog.Attr{slog.Int64("n", -5)}, true},
		{"no attributes, no IDs", context.Background(), slog.LevelError, "plain", nil, true},
		{"quote in a value", ctx, slog.LevelInfo, "m", []slog.Attr{slog.String("path", `/a"b`)}, false},
		{"control in a value", ctx, slog.LevelInfo, "m", []slog.Attr{slog.String("path", "/a\nb")}, false},
		{"non-ASCII message", ctx, slog.LevelInfo, "café", nil, false},
		{"another kind", ctx, slog.LevelInfo, "m", []slog.Attr{slog.Bool("ok", true)}, false},
		{"empty key", ctx, slog.LevelInfo, "m", []slog.Attr{slog.String("", "v")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var want, got bytes.Buffer
			h := New(&want, slog.LevelDebug).Handler()
			r := slog.NewRecord(at, tt.level, tt.msg, 0)
			r.AddAttrs(tt.attrs...)
			require.NoError(t, h.Handle(tt.ctx, r))

			d := New(&got, slog.LevelDebug).Handler().(contextHandler).direct
			var ids [3]slog.Attr
			require.Equal(t, tt.direct, d.write(at, tt.level, tt.msg, tt.attrs, contextIDs(tt.ctx, &ids)))
			d.out.flush()
			if tt.direct {
				require.Equal(t, want.String(), got.String())
			} else {
				require.Zero(t, got.Len(), "nothing written: slog writes it")
			}
		})
	}
}

// TestLog: Log writes at the logger's level and above, through slog for what it
// cannot write itself, and through any handler that is not New's.
func TestLog(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	logger := New(&buf, slog.LevelInfo)
	ctx := WithRequestID(context.Background(), "req-1")
	Log(ctx, logger, slog.LevelDebug, "below")
	require.Zero(t, buf.Len())
	Log(ctx, logger, slog.LevelInfo, "direct", slog.Int("n", 1))
	Flush(logger)
	require.Regexp(t, `^\{"time":"[^"]+","level":"INFO","msg":"direct","n":1,"request_id":"req-1"\}\n$`, buf.String())
	buf.Reset()
	Log(ctx, logger, slog.LevelInfo, "via slog", slog.Bool("b", true))
	require.Regexp(t, `^\{"time":"[^"]+","level":"INFO","msg":"via slog","b":true,"request_id":"req-1"\}\n$`, buf.String())
	buf.Reset()
	Log(ctx, logger.With("k", "v"), slog.LevelInfo, "derived")
	require.Regexp(t, `^\{"time":"[^"]+","level":"INFO","msg":"derived","k":"v","request_id":"req-1"\}\n$`, buf.String())
	buf.Reset()
	text := slog.New(slog.NewTextHandler(&buf, nil))
	Log(ctx, text, slog.LevelInfo, "text")
	require.Contains(t, buf.String(), "msg=text")
}

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine and the test's.
type syncBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	return s.b.Write(p)
}

func (s *syncBuffer) read() (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String(), s.writes
}

// TestAccessLinesWait: Log's lines below Warn wait and are written together, in
// order with every other line: when another line is written, at Flush (on New's
// logger or one derived from it), and on their own within flushDelay.
func TestAccessLinesWait(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	logger := New(&out, slog.LevelInfo)
	logger.Handler().(contextHandler).direct.out.delay = time.Hour // no timer in this part
	ctx := context.Background()
	Log(ctx, logger, slog.LevelInfo, "access", slog.Int("n", 1))
	Log(ctx, logger, slog.LevelInfo, "access", slog.Int("n", 2))
	got, writes := out.read()
	require.Empty(t, got, "waiting")
	require.Zero(t, writes)

	logger.Info("other") // written after them, in one write
	got, writes = out.read()
	require.Regexp(t, `^\{[^\n]*"n":1\}\n\{[^\n]*"n":2\}\n\{[^\n]*"msg":"other"\}\n$`, got)
	require.Equal(t, 1, writes)

	Log(ctx, logger, slog.LevelWarn, "warned", slog.Int("n", 3))
	got, writes = out.read()
	require.Contains(t, got, `"n":3`, "a warning is written at once")
	require.Equal(t, 2, writes)

	Log(ctx, logger, slog.LevelInfo, "access", slog.Int("n", 4))
	Flush(logger)
	got, writes = out.read()
	require.Contains(t, got, `"n":4`)
	require.Equal(t, 3, writes)
	Flush(logger) // nothing waits: nothing written
	_, writes = out.read()
	require.Equal(t, 3, writes)
	Log(ctx, logger, slog.LevelInfo, "access", slog.Int("n", 5))
	Flush(logger.With("k", "v")) // the same writer
	got, _ = out.read()
	require.Contains(t, got, `"n":5`)

	var timed syncBuffer
	logger = New(&timed, slog.LevelInfo)
	Log(ctx, logger, slog.LevelInfo, "access", slog.String("last", "yes"))
	require.Eventually(t, func() bool {
		got, _ := timed.read()
		return strings.HasSuffix(got, "\"last\":\"yes\"}\n")
	}, 20*flushDelay, flushDelay/10, "written on its own within flushDelay")
}

// TestAccessLinesWaitUpToPendingMax: lines that wait are written once pendingMax
// bytes wait, however long before flushDelay.
func TestAccessLinesWaitUpToPendingMax(t *testing.T) {
	t.Parallel()
	var out syncBuffer
	logger := New(&out, slog.LevelInfo)
	logger.Handler().(contextHandler).direct.out.delay = time.Hour
	for i := 0; ; i++ {
		Log(context.Background(), logger, slog.LevelInfo, "access", slog.Int("n", i))
		if got, w := out.read(); w == 1 {
			require.GreaterOrEqual(t, len(got), pendingMax)
			require.Less(t, len(got), pendingMax+100, "no more than the line that reached it")
			break
		}
		require.Less(t, i, pendingMax/10, "written once pendingMax bytes wait")
	}
}
