// Package scalar marshals the GraphQL scalars the schema binds here (see
// gqlgen.yml) as gqlgen's own marshalers do, byte for byte, with fewer allocations:
// a summary writes a few hundred of them per request. Input is read by gqlgen's own
// unmarshalers.
package scalar

import (
	"encoding/json"
	"io"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"
)

// MarshalBoolean writes true or false. gqlgen's allocates a closure and a copy of
// the word per value; these two are shared.
func MarshalBoolean(b bool) graphql.Marshaler {
	if b {
		return trueValue
	}
	return falseValue
}

// Interface values made once: converting a literal to one would allocate per call.
var (
	trueValue  graphql.Marshaler = literal("true")
	falseValue graphql.Marshaler = literal("false")
)

// literal is a marshaler writing fixed JSON text.
type literal string

func (l literal) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, string(l)) }

// UnmarshalBoolean is gqlgen's.
func UnmarshalBoolean(v any) (bool, error) { return graphql.UnmarshalBoolean(v) }

// MarshalTime writes t in RFC 3339 with nanoseconds, quoted, and the zero time as
// null, as gqlgen's graphql.MarshalTime. That one makes three allocations (a
// closure, the formatted text, its quoted copy); this one makes one: the value with
// the buffer it is formatted into.
func MarshalTime(t time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return &timeValue{t: t}
}

type timeValue struct {
	t time.Time
	// buf holds the quoted text: RFC 3339 with nanoseconds is at most 35 bytes for
	// years 0 to 9999 (later years grow the slice).
	buf [40]byte
}

// MarshalGQL writes the time as strconv.Quote(t.Format(time.RFC3339Nano)) does: the
// format's characters (digits, "-", ":", ".", "T", "Z", "+") need no escaping.
func (v *timeValue) MarshalGQL(w io.Writer) {
	b := append(v.buf[:0], '"')
	b = v.t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	_, _ = w.Write(b)
}

// MarshalTimeAt is MarshalTime(*t), reading *t when it writes it: the time must not
// change until then (a field of the object being written, which does not). Holding
// it allocates nothing, and writing it into a bytes.Buffer (the response's) nothing
// either, where MarshalTime allocates the value and its buffer. graph/rewrite has
// the generated code write a time read from its object's field with it.
func MarshalTimeAt(t *time.Time) graphql.Marshaler {
	if t.IsZero() {
		return graphql.Null
	}
	return timeAt{t}
}

// timeAt is a time written from where it is. A struct of one pointer is held in an
// interface as the pointer.
type timeAt struct{ t *time.Time }

func (v timeAt) MarshalGQL(w io.Writer) {
	b, ok := w.(availableBuffer)
	if !ok {
		(&timeValue{t: *v.t}).MarshalGQL(w)
		return
	}
	out := append(b.AvailableBuffer(), '"')
	out = v.t.AppendFormat(out, time.RFC3339Nano)
	out = append(out, '"')
	_, _ = b.Write(out)
}

// MarshalFloatAt writes *f, finite, as gqlgen's MarshalFloatContext writes it (fmt's
// %g: strconv's shortest 'g'), reading *f when it writes it, as MarshalTimeAt does
// a time. gqlgen's allocates a closure, a wrapper with the context and the value
// boxed for fmt; this one nothing when writing into a bytes.Buffer. The caller
// writes NaN and the infinities otherwise: gqlgen's reports them as errors.
func MarshalFloatAt(f *float64) graphql.Marshaler { return floatAt{f} }

type floatAt struct{ f *float64 }

func (v floatAt) MarshalGQL(w io.Writer) {
	if b, ok := w.(availableBuffer); ok {
		_, _ = b.Write(strconv.AppendFloat(b.AvailableBuffer(), *v.f, 'g', -1, 64))
		return
	}
	_, _ = io.WriteString(w, strconv.FormatFloat(*v.f, 'g', -1, 64))
}

// availableBuffer is a writer with free space to append to before writing it, as a
// bytes.Buffer has.
type availableBuffer interface {
	AvailableBuffer() []byte
	Write([]byte) (int, error)
}

// UnmarshalTime is gqlgen's.
func UnmarshalTime(v any) (time.Time, error) { return graphql.UnmarshalTime(v) }

// MarshalInt writes i in decimal. gqlgen's allocates a closure per value; an int
// below 256 fits an interface without allocating, and strconv has the text of those
// below 100.
func MarshalInt(i int) graphql.Marshaler { return intValue(i) }

// MarshalInt32 is MarshalInt for int32 fields.
func MarshalInt32(i int32) graphql.Marshaler { return intValue(i) }

type intValue int

func (i intValue) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Itoa(int(i))) }

// UnmarshalInt is gqlgen's.
func UnmarshalInt(v any) (int, error) { return graphql.UnmarshalInt(v) }

// UnmarshalInt32 is gqlgen's.
func UnmarshalInt32(v any) (int32, error) { return graphql.UnmarshalInt32(v) }

// MarshalMap writes a JSON scalar held as a map: json.Marshal's encoding, on one line.
// gqlgen's writes it with json.Encoder, whose trailing newline would end an SSE
// event's data line in the middle of the response (responses are no longer compacted
// on their way out: internal/api/wire). A value encoding/json refuses panics, as with
// gqlgen's: the field's recovery makes it a null and an error.
func MarshalMap(v map[string]any) graphql.Marshaler {
	return graphql.WriterFunc(func(w io.Writer) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		_, _ = w.Write(b)
	})
}

// UnmarshalMap reads a JSON scalar object as gqlgen's does.
func UnmarshalMap(v any) (map[string]any, error) { return graphql.UnmarshalMap(v) }
