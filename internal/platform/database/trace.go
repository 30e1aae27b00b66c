package database

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"unicode"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/schema"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/inkgraph/inkgraph/internal/platform/tracing"
)

// maxQueryText bounds db.query.text: a statement is recorded up to this many bytes.
const maxQueryText = 4096

// Traced returns db with QueryTracer attached: every statement run through it (or a
// transaction begun on it) inside a recorded span gets a client span of its own. The
// returned DB shares db's connections; close either. Attach it only when traces are
// exported (tracing.Enabled): each hook is called for every statement.
func Traced(db *bun.DB) *bun.DB { return db.WithQueryHook(QueryTracer{}) }

// QueryTracer is a bun.QueryHook that records one client span per SQL statement,
// named after OpenTelemetry's database conventions ("SELECT onboarding_steps", or the
// operation alone when there is no table), with db.system.name, db.operation.name,
// db.collection.name and db.query.text.
//
// db.query.text is the statement as Bun's template renders it, with a "?" for every
// value Bun would have written into the text (arguments, model fields): Bun inlines
// values, and those may be password hashes, tokens, encrypted keys or what a user
// typed, none of which belongs in a trace store. Literals written in the code
// itself stay, since they are the code's, not the data's.
//
// A statement outside a recorded span (a background sweep, tracing off or the trace
// sampled out) costs one context lookup and no allocation.
type QueryTracer struct{}

var _ bun.QueryHook = QueryTracer{}

// BeforeQuery starts the statement's span when its context has a recorded span.
func (QueryTracer) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	op, table := operation(e), tableName(e)
	name := op
	if table != "" {
		name = op + " " + table
	}
	attrs := make([]attribute.KeyValue, 0, 4)
	attrs = append(attrs, systemName(e.DB), semconv.DBOperationName(op))
	if table != "" {
		attrs = append(attrs, semconv.DBCollectionName(table))
	}
	if text := queryText(e); text != "" {
		attrs = append(attrs, semconv.DBQueryText(text))
	}
	_, span := tracing.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	// The span travels in the event, not in the context: Bun keeps BEGIN's context
	// as the transaction's and runs every statement of RunInTx (and COMMIT) in it, so
	// a BEGIN span there, ended at once, would hide the whole transaction.
	if e.Stash == nil {
		e.Stash = make(map[any]any, 1)
	}
	e.Stash[spanKey{}] = span
	return ctx
}

// spanKey is where BeforeQuery leaves the statement's span in the event's Stash.
type spanKey struct{}

// AfterQuery ends the span BeforeQuery started, with the statement's error if any
// ("no rows" is an answer, not an error).
func (QueryTracer) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	span, ok := e.Stash[spanKey{}].(trace.Span)
	if !ok {
		return
	}
	if e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows) {
		// PostgreSQL's messages may quote a value ("invalid input syntax for type
		// uuid: \"…\""): a server error is recorded by its SQLSTATE alone, as the
		// statement's text is, without values.
		var pgErr *pgconn.PgError
		if errors.As(e.Err, &pgErr) {
			span.SetStatus(codes.Error, "SQLSTATE "+pgErr.Code)
			span.SetAttributes(attribute.String("db.response.status_code", pgErr.Code), semconv.ErrorTypeKey.String(pgErr.Code))
		} else {
			span.RecordError(e.Err)
			span.SetStatus(codes.Error, e.Err.Error())
			span.SetAttributes(semconv.ErrorType(e.Err))
		}
	}
	span.End()
}

// systemName is db.system.name for db's dialect.
func systemName(db *bun.DB) attribute.KeyValue {
	if db != nil && db.Dialect().Name() == dialect.SQLite {
		return semconv.DBSystemNameSQLite
	}
	return semconv.DBSystemNamePostgreSQL
}

// isRaw reports whether the statement is SQL text the code wrote (db.ExecContext, a
// transaction's BEGIN, NewRaw) rather than one of Bun's query builders.
func isRaw(e *bun.QueryEvent) bool {
	if e.IQuery == nil {
		return true
	}
	_, raw := e.IQuery.(*bun.RawQuery)
	return raw
}

// operation is the statement's verb: the builder's, or the first word of raw SQL
// (whose builder would say SELECT for anything).
func operation(e *bun.QueryEvent) string {
	if !isRaw(e) {
		return e.IQuery.Operation()
	}
	q := strings.TrimLeftFunc(e.QueryTemplate, unicode.IsSpace)
	if end := strings.IndexFunc(q, func(r rune) bool { return !unicode.IsLetter(r) }); end >= 0 {
		q = q[:end]
	}
	if q == "" || len(q) > 16 {
		return "SQL"
	}
	return strings.ToUpper(q)
}

// tableName is the builder's table; for raw SQL, the first table a SELECT or DELETE
// names (after its first FROM), as the semantic conventions allow for a collection
// parsed from the text, or "" (statements written once and run raw, such as the
// onboarding summary's, keep their table in their spans).
func tableName(e *bun.QueryEvent) string {
	if !isRaw(e) {
		return strings.Trim(e.IQuery.GetTableName(), `"`+"`")
	}
	if op := operation(e); op != "SELECT" && op != "DELETE" {
		return ""
	}
	return tableAfterFrom(e.QueryTemplate)
}

// tableAfterFrom returns the name after the first FROM of q outside quotes, unquoted:
// "" when a subquery or nothing follows.
func tableAfterFrom(q string) string {
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'' || c == '"':
			// A string or a quoted name: FROM inside it is not the keyword.
			end := strings.IndexByte(q[i+1:], c)
			if end < 0 {
				return ""
			}
			i += end + 1
		case isWordByte(c) && (i == 0 || !isWordByte(q[i-1])):
			word := i
			for i < len(q) && isWordByte(q[i]) {
				i++
			}
			if strings.EqualFold(q[word:i], "FROM") {
				return firstName(strings.TrimLeftFunc(q[i:], unicode.IsSpace))
			}
			i--
		}
	}
	return ""
}

// firstName is the (possibly quoted, possibly schema-qualified) name q starts with.
func firstName(q string) string {
	var name strings.Builder
	for len(q) > 0 {
		switch {
		case q[0] == '"':
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				return ""
			}
			name.WriteString(q[1 : end+1])
			q = q[end+2:]
		case isWordByte(q[0]):
			n := 0
			for n < len(q) && isWordByte(q[n]) {
				n++
			}
			name.WriteString(q[:n])
			q = q[n:]
		default:
			return ""
		}
		if len(q) == 0 || q[0] != '.' {
			break
		}
		name.WriteByte('.')
		q = q[1:]
	}
	return name.String()
}

// isWordByte reports whether c can be part of an unquoted SQL name.
func isWordByte(c byte) bool {
	return c == '_' || c == '$' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// queryText is the statement's template, values left out, cut at maxQueryText.
func queryText(e *bun.QueryEvent) string {
	text := e.QueryTemplate
	if e.IQuery != nil {
		b, err := e.IQuery.AppendQuery(schema.NewNopQueryGen(), nil)
		if err != nil {
			return ""
		}
		text = string(b)
	}
	if len(text) > maxQueryText {
		text = text[:maxQueryText]
	}
	return text
}
