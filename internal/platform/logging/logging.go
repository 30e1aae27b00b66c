// Package logging owns Inkgraph's structured logs: JSON through slog, with the request
// ID, operation ID and trace ID of the context added to every record logged with it.
package logging

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"io"
	"log/slog"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

type requestIDKey struct{}
type operationIDKey struct{}

// New returns a JSON logger at level whose records carry the context's IDs. Log
// writes its records without slog's machinery, for the hot path.
func New(w io.Writer, level slog.Level) *slog.Logger {
	out := &lockedWriter{w: w, delay: flushDelay}
	return slog.New(contextHandler{
		Handler: slog.NewJSONHandler(out, &slog.HandlerOptions{Level: level}),
		direct:  &direct{out: out, level: level},
		out:     out,
	})
}

// Flush writes the access lines that wait to be written (Log's lines below Warn wait
// up to 100 ms, to be written together); the server calls it as it exits. It does
// nothing for a logger neither New nor With on one of New's made.
func Flush(logger *slog.Logger) {
	if h, ok := logger.Handler().(contextHandler); ok && h.out != nil {
		h.out.flush()
	}
}

// WithRequestID returns ctx carrying the request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the context's request ID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// WithOperationID returns ctx carrying a GraphQL operation's ID: one request (or one
// WebSocket connection) can run many operations.
func WithOperationID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, operationIDKey{}, id)
}

// OperationID returns the context's operation ID, or "".
func OperationID(ctx context.Context) string {
	id, _ := ctx.Value(operationIDKey{}).(string)
	return id
}

// ids are this process's: a random 64-bit start (idBase) counted up and scrambled by a
// keyed bijection, so IDs are unique within the process (until 2^64 of them), two
// processes' sequences overlap with odds of about n/2^64, and consecutive IDs do not
// show how many requests came between them.
var (
	idBase, idKey = seedIDs()
	idCount       atomic.Uint64
)

// seedIDs draws the process's random start and key.
func seedIDs() (base, key uint64) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
}

// NewID returns a 16-hex-digit ID for requests and operations, unique within the
// process and, with overwhelming odds, across processes. It costs an atomic add and one
// small allocation (no system call: requests pay it each).
func NewID() string {
	x := mix(mix(idBase+idCount.Add(1)) ^ idKey)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], x)
	var out [16]byte
	hex.Encode(out[:], b[:])
	return string(out[:])
}

// mix is SplitMix64's finalizer, a bijection of uint64.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// contextHandler adds the IDs found in a record's context: request_id, operation_id,
// and trace_id when the context has a valid span context (an exported trace, or a
// caller's traceparent).
type contextHandler struct {
	slog.Handler
	// direct is set on New's handler itself (not on one derived by WithAttrs or
	// WithGroup): Log may write its records.
	direct *direct
	// out is the writer of New's handler and of every handler derived from it.
	out *lockedWriter
}

func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	// Added in one call: a record past its five inline attributes grows its
	// overflow slice once per call.
	var ids [3]slog.Attr
	r.AddAttrs(contextIDs(ctx, &ids)...)
	return h.Handler.Handle(ctx, r)
}

// contextIDs returns the IDs Handle adds to a record of ctx.
func contextIDs(ctx context.Context, ids *[3]slog.Attr) []slog.Attr {
	n := 0
	if id := RequestID(ctx); id != "" {
		ids[n], n = slog.String("request_id", id), n+1
	}
	if id := OperationID(ctx); id != "" {
		ids[n], n = slog.String("operation_id", id), n+1
	}
	if sc := trace.SpanContextFromContext(ctx); sc.HasTraceID() {
		ids[n], n = slog.String("trace_id", sc.TraceID().String()), n+1
	}
	return ids[:n]
}

func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return contextHandler{Handler: h.Handler.WithAttrs(attrs), out: h.out}
}

func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{Handler: h.Handler.WithGroup(name), out: h.out}
}
