package scalar

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/stretchr/testify/require"
)

func marshal(m graphql.Marshaler) string {
	var b bytes.Buffer
	m.MarshalGQL(&b)
	return b.String()
}

// A map is written as json.Marshal writes it, on one line, where gqlgen's ends with a
// newline; a value encoding/json refuses panics, as gqlgen's does.
func TestMarshalMap(t *testing.T) {
	t.Parallel()
	v := map[string]any{"b": []any{1, "x<y"}, "a": map[string]any{"n": nil}}
	want, err := json.Marshal(v)
	require.NoError(t, err)
	require.Equal(t, string(want), marshal(MarshalMap(v)))
	require.Equal(t, string(want)+"\n", marshal(graphql.MarshalMap(v)), "gqlgen's differs by its newline alone")
	require.Equal(t, "null", marshal(MarshalMap(nil)))
	require.Panics(t, func() { marshal(MarshalMap(map[string]any{"f": func() {}})) })
	got, err := UnmarshalMap(map[string]any{"k": "v"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"k": "v"}, got)
	_, err = UnmarshalMap("not an object")
	require.Error(t, err)
}

// The marshalers write what gqlgen's write, byte for byte.
func TestMarshalAsGQLGen(t *testing.T) {
	t.Parallel()
	for _, b := range []bool{true, false} {
		require.Equal(t, marshal(graphql.MarshalBoolean(b)), marshal(MarshalBoolean(b)))
	}
	east := time.FixedZone("east", 5*3600+30*60)
	for _, tm := range []time.Time{
		time.Date(2026, 12, 6, 9, 38, 14, 0, time.UTC),
		time.Date(2026, 12, 6, 9, 38, 14, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120000000, east),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("west", -(11*3600+45*60))),
		time.Date(12345, 6, 7, 8, 9, 10, 11, east), // longer than the buffer
		time.Unix(1_700_000_000, 5).In(time.Local),
	} {
		require.Equal(t, marshal(graphql.MarshalTime(tm)), marshal(MarshalTime(tm)), tm.String())
		require.Equal(t, marshal(graphql.MarshalTime(tm)), marshal(MarshalTimeAt(&tm)), tm.String())
		var other strings.Builder // a writer without AvailableBuffer
		MarshalTimeAt(&tm).MarshalGQL(&other)
		require.Equal(t, marshal(graphql.MarshalTime(tm)), other.String(), tm.String())
	}
	require.Equal(t, graphql.Null, MarshalTime(time.Time{}))
	require.Equal(t, graphql.Null, MarshalTimeAt(&time.Time{}))
	floats := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 61.5, 1.0 / 3, 100000, 1e6, 1e20, 1e21, 1.5e21, 1e-4, 1e-5, 1e-7,
		123456789.125, math.MaxFloat64, math.SmallestNonzeroFloat64, -math.MaxFloat64, 2.5e-308}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		floats = append(floats, math.Float64frombits(rng.Uint64()))
	}
	for _, f := range floats {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue // gqlgen's errors; MarshalFloatAt's callers write them otherwise
		}
		var gqlgens bytes.Buffer
		require.NoError(t, graphql.MarshalFloatContext(f).MarshalGQLContext(context.Background(), &gqlgens))
		require.Equal(t, gqlgens.String(), marshal(MarshalFloatAt(&f)), f)
		var other strings.Builder
		MarshalFloatAt(&f).MarshalGQL(&other)
		require.Equal(t, gqlgens.String(), other.String(), f)
	}
	for _, i := range []int{0, 1, 7, 99, 100, 255, 256, 3000, -1, -256, math.MaxInt32, math.MinInt32, math.MaxInt, math.MinInt} {
		require.Equal(t, marshal(graphql.MarshalInt(i)), marshal(MarshalInt(i)), i)
		require.Equal(t, marshal(graphql.MarshalInt32(int32(i))), marshal(MarshalInt32(int32(i))), i)
	}
}

func TestMarshalAllocations(t *testing.T) {
	tm := time.Date(2026, 12, 6, 9, 38, 14, 123456789, time.UTC)
	var b bytes.Buffer
	b.Grow(64)
	require.Zero(t, testing.AllocsPerRun(100, func() {
		b.Reset()
		MarshalBoolean(true).MarshalGQL(&b)
	}))
	require.Equal(t, 1.0, testing.AllocsPerRun(100, func() {
		b.Reset()
		MarshalTime(tm).MarshalGQL(&b)
	}))
	require.Zero(t, testing.AllocsPerRun(100, func() {
		b.Reset()
		MarshalTimeAt(&tm).MarshalGQL(&b)
	}), "a time written from where it is")
	f := 61.25
	require.Zero(t, testing.AllocsPerRun(100, func() {
		b.Reset()
		MarshalFloatAt(&f).MarshalGQL(&b)
	}), "a float written from where it is")
	small := []int{7, 42, 99}
	require.Zero(t, testing.AllocsPerRun(100, func() {
		for _, i := range small {
			b.Reset()
			MarshalInt(i).MarshalGQL(&b)
		}
	}), "an int below 100")
}

// TestMarshalersNeverNull: graph/rewrite writes a leaf of these marshalers outside
// gqlgen's field context because they return a value for every input (a null would
// report its error on the parent's path); the time's only null is the zero time,
// which it guards.
func TestMarshalersNeverNull(t *testing.T) {
	t.Parallel()
	for _, b := range []bool{false, true} {
		require.NotEqual(t, graphql.Null, MarshalBoolean(b))
	}
	for _, i := range []int{math.MinInt, -1, 0, 1, math.MaxInt} {
		require.NotEqual(t, graphql.Null, MarshalInt(i))
	}
	require.NotEqual(t, graphql.Null, MarshalTime(time.Unix(0, 0)))
	require.NotEqual(t, graphql.Null, MarshalTime(time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)))
	require.Equal(t, graphql.Null, MarshalTime(time.Time{}))
}
