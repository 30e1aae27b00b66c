package database

import (
	"context"
	"database/sql/driver"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Bind prepares one statement the hot path repeats with other values, such as the
// onboarding summary's reads of a user. Bun writes every value into a statement's
// text, so on PostgreSQL each user's statement is new text, parsed and planned anew
// each time (the summary's one-row join of five tables plans in about 0.2 ms and runs
// in 0.05 ms). Write the statement with the returned value where v goes, and run it
// with the returned context: on PostgreSQL the value is the placeholder $1 and v
// travels in the context to the driver, which sends it as a bind parameter, so the
// statement's text is the same for every user and pgx prepares it once per
// connection (unless Config.NoPreparedStatements: then pgx writes v into the text
// itself, as the simple protocol must). On SQLite, whose statements are parsed in
// process, v is the value itself and ctx is unchanged.
//
// The context is for that one statement, a query (Scan, not Exec), with one value:
// every query run with it on PostgreSQL is sent with v as $1, so keep it apart from
// the caller's context. Bun's query hooks (tracing, tests' counters) see the statement
// as any other, with $1 in its text.
func Bind(ctx context.Context, db bun.IDB, v any) (context.Context, any) {
	if v == nil || db.Dialect().Name() != dialect.PG {
		return ctx, v
	}
	return context.WithValue(ctx, boundKey{}, v), boundPlaceholder
}

// boundPlaceholder is where a bound value goes in a PostgreSQL statement's text.
const boundPlaceholder = bun.Safe("$1")

// Placeholder is what to write where Bind's value goes in a statement written once,
// ahead of its runs, for db: on PostgreSQL, the placeholder Bind returns, so that
// the text is final and Bun formats nothing at each run (a statement without ? is
// sent as it is); on SQLite, ?, which Bun replaces by the value Bind returns there.
func Placeholder(db bun.IDB) bun.Safe {
	if db.Dialect().Name() == dialect.PG {
		return boundPlaceholder
	}
	return "?"
}

type boundKey struct{}

// boundConnector opens pgx's database/sql connections, each sending a bound
// statement's value (Bind) with the statement.
type boundConnector struct {
	driver.Connector
	mode pgx.QueryExecMode // the bound statements'
}

func (c boundConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(attached(ctx)) // detach.go
	if err != nil {
		return nil, err
	}
	return &boundConn{Conn: conn.(*stdlib.Conn), mode: c.mode}, nil
}

// boundConn is pgx's connection (every method of it, so every optional interface
// database/sql looks for), with the values of Bind's statements added to their
// queries.
type boundConn struct {
	*stdlib.Conn
	mode pgx.QueryExecMode
}

// QueryContext runs query, with its bound value when ctx carries one and the
// statement has no arguments of its own, with the context driverCancels detached
// from database/sql.
func (c *boundConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ctx = attached(ctx) // detach.go
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	v := ctx.Value(boundKey{})
	if v == nil || len(args) != 0 {
		rows, err := c.Conn.QueryContext(ctx, query, args)
		return rows, ended(ctx, err)
	}
	// What pgx's stdlib.Conn.QueryContext does, with the value and how to run the
	// statement (pgx reads a QueryExecMode leading the arguments as that), and rows
	// of boundRows.
	conn := c.Conn.Conn()
	if conn.IsClosed() {
		return nil, driver.ErrBadConn
	}
	rows, err := conn.Query(ctx, query, resultFormats, c.mode, v)
	if err != nil {
		if pgconn.SafeToRetry(err) {
			return nil, ended(ctx, driver.ErrBadConn)
		}
		return nil, err
	}
	// The first row is read now: database/sql asks for the columns before any.
	more := rows.Next()
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, err
	}
	return &boundRows{rows: rows, types: conn.TypeMap(), pending: true, more: more}, nil
}

// resultFormats are the types pgx's database/sql adaptor reads in PostgreSQL's binary
// format (stdlib's databaseSQLResultFormats); boundRows decodes them as it does.
var resultFormats = pgx.QueryResultFormatsByOID{
	pgtype.BoolOID: 1, pgtype.ByteaOID: 1, pgtype.CIDOID: 1, pgtype.DateOID: 1,
	pgtype.Float4OID: 1, pgtype.Float8OID: 1, pgtype.Int2OID: 1, pgtype.Int4OID: 1,
	pgtype.Int8OID: 1, pgtype.OIDOID: 1, pgtype.TimestampOID: 1, pgtype.TimestamptzOID: 1,
	pgtype.XIDOID: 1,
}

// boundRows are a bound statement's rows: pgx's stdlib.Rows, with each value decoded
// into one of the rows' own variables rather than a closure and a variable of its
// own per column and query (two or three allocations a column, about 140 of the
// onboarding summary's). The values are those pgx's gives database/sql, type for
// type, and so are the column types (TestBoundRowsAreStdlibs).
type boundRows struct {
	rows    pgx.Rows
	types   *pgtype.Map
	plans   []pgtype.ScanPlan
	names   []string
	pending bool // the first row is read, not yet returned
	more    bool // whether there was a first row

	// What a column's value is decoded into, by type.
	b    bool
	u32  pgtype.Uint32
	date pgtype.Date
	f4   float32
	f8   float64
	i2   int16
	i4   int32
	i8   int64
	ts   pgtype.Timestamp
	tstz pgtype.Timestamptz
	s    string
	raw  []byte
}

func (r *boundRows) Columns() []string {
	if r.names == nil {
		fields := r.rows.FieldDescriptions()
		r.names = make([]string, len(fields))
		for i, fd := range fields {
			r.names[i] = fd.Name
		}
	}
	return r.names
}

// The column types, as stdlib.Rows has them: database/sql's ColumnTypes reads them
// (Bun's scans into maps do).

func (r *boundRows) ColumnTypeDatabaseTypeName(index int) string {
	oid := r.rows.FieldDescriptions()[index].DataTypeOID
	if dt, ok := r.types.TypeForOID(oid); ok {
		return strings.ToUpper(dt.Name)
	}
	return strconv.FormatInt(int64(oid), 10)
}

// varHeaderSize is the length header of a varchar's type modifier.
const varHeaderSize = 4

func (r *boundRows) ColumnTypeLength(index int) (int64, bool) {
	fd := r.rows.FieldDescriptions()[index]
	switch fd.DataTypeOID {
	case pgtype.TextOID, pgtype.ByteaOID:
		return math.MaxInt64, true
	case pgtype.VarcharOID, pgtype.BPCharOID:
		return int64(fd.TypeModifier - varHeaderSize), true
	case pgtype.VarbitOID:
		return int64(fd.TypeModifier), true
	default:
		return 0, false
	}
}

func (r *boundRows) ColumnTypePrecisionScale(index int) (precision, scale int64, ok bool) {
	fd := r.rows.FieldDescriptions()[index]
	if fd.DataTypeOID != pgtype.NumericOID {
		return 0, 0, false
	}
	mod := fd.TypeModifier - varHeaderSize
	return int64((mod >> 16) & 0xffff), int64(mod & 0xffff), true
}

func (r *boundRows) ColumnTypeScanType(index int) reflect.Type {
	switch r.rows.FieldDescriptions()[index].DataTypeOID {
	case pgtype.Float8OID:
		return reflect.TypeFor[float64]()
	case pgtype.Float4OID:
		return reflect.TypeFor[float32]()
	case pgtype.Int8OID:
		return reflect.TypeFor[int64]()
	case pgtype.Int4OID:
		return reflect.TypeFor[int32]()
	case pgtype.Int2OID:
		return reflect.TypeFor[int16]()
	case pgtype.BoolOID:
		return reflect.TypeFor[bool]()
	case pgtype.NumericOID:
		return reflect.TypeFor[float64]()
	case pgtype.DateOID, pgtype.TimestampOID, pgtype.TimestamptzOID:
		return reflect.TypeFor[time.Time]()
	case pgtype.ByteaOID:
		return reflect.TypeFor[[]byte]()
	default:
		return reflect.TypeFor[string]()
	}
}

func (r *boundRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

func (r *boundRows) Next(dest []driver.Value) error {
	more := r.more
	if r.pending {
		r.pending = false
	} else {
		more = r.rows.Next()
	}
	if !more {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	fields := r.rows.FieldDescriptions()
	if r.plans == nil {
		r.plans = make([]pgtype.ScanPlan, len(fields))
	}
	for i, src := range r.rows.RawValues() {
		if src == nil {
			dest[i] = nil
			continue
		}
		v, err := r.value(i, fields[i], src)
		if err != nil {
			return fmt.Errorf("convert field %d failed: %w", i, err)
		}
		dest[i] = v
	}
	return nil
}

// value decodes column i's src as stdlib.Rows' value functions do, its scan plan
// made on the first row.
func (r *boundRows) value(i int, fd pgconn.FieldDescription, src []byte) (driver.Value, error) {
	plan := func(target any) pgtype.ScanPlan {
		if r.plans[i] == nil {
			r.plans[i] = r.types.PlanScan(fd.DataTypeOID, fd.Format, target)
		}
		return r.plans[i]
	}
	switch fd.DataTypeOID {
	case pgtype.BoolOID:
		err := plan(&r.b).Scan(src, &r.b)
		return r.b, err
	case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID, pgtype.XMLOID:
		r.raw = nil // a value of its own: the last one is database/sql's
		if err := plan(&r.raw).Scan(src, &r.raw); err != nil {
			return nil, err
		}
		return r.raw, nil
	case pgtype.CIDOID, pgtype.OIDOID, pgtype.XIDOID:
		if err := plan(&r.u32).Scan(src, &r.u32); err != nil {
			return nil, err
		}
		return r.u32.Value()
	case pgtype.DateOID:
		if err := plan(&r.date).Scan(src, &r.date); err != nil {
			return nil, err
		}
		return r.date.Value()
	case pgtype.Float4OID:
		err := plan(&r.f4).Scan(src, &r.f4)
		return float64(r.f4), err
	case pgtype.Float8OID:
		err := plan(&r.f8).Scan(src, &r.f8)
		return r.f8, err
	case pgtype.Int2OID:
		err := plan(&r.i2).Scan(src, &r.i2)
		return int64(r.i2), err
	case pgtype.Int4OID:
		err := plan(&r.i4).Scan(src, &r.i4)
		return int64(r.i4), err
	case pgtype.Int8OID:
		err := plan(&r.i8).Scan(src, &r.i8)
		return r.i8, err
	case pgtype.TimestampOID:
		if err := plan(&r.ts).Scan(src, &r.ts); err != nil {
			return nil, err
		}
		return r.ts.Value()
	case pgtype.TimestamptzOID:
		if err := plan(&r.tstz).Scan(src, &r.tstz); err != nil {
			return nil, err
		}
		return r.tstz.Value()
	default:
		err := plan(&r.s).Scan(src, &r.s)
		return r.s, err
	}
}
