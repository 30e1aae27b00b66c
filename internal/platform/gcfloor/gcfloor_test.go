package gcfloor_test

import (
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/gcfloor"
)

const mib = 1 << 20

// goal is the runtime's next-cycle goal for a GOGC of percent: it grows from what is
// live and scanned, and is never under 4 MiB × GOGC / 100.
func goal(live, roots uint64, percent int) uint64 {
	return max(live+(live+roots)*uint64(percent)/100, 4*mib*uint64(percent)/100)
}

func TestPercent(t *testing.T) {
	t.Parallel()
	// A small live heap: GOGC rises until the goal reaches the floor.
	p := gcfloor.Percent(64*mib, 100, 6*mib, mib/2)
	require.Equal(t, 893, p) // ⌈58 MiB × 100 / 6.5 MiB⌉
	require.GreaterOrEqual(t, goal(6*mib, mib/2, p), uint64(64*mib))
	// Half the floor or more live: Go's own growth reaches the floor; GOGC stays.
	require.Equal(t, 100, gcfloor.Percent(64*mib, 100, 32*mib, mib))
	require.Equal(t, 100, gcfloor.Percent(64*mib, 100, 300*mib, 40*mib))
	// Never below what GOGC was.
	require.Equal(t, 400, gcfloor.Percent(64*mib, 400, 30*mib, mib))
	// Little live: the runtime's least goal, which grows with GOGC, reaches the floor
	// first (64 MiB is 4 MiB × 1600 / 100).
	require.Equal(t, 1600, gcfloor.Percent(64*mib, 100, 0, 0))
	require.Equal(t, 1600, gcfloor.Percent(64*mib, 100, mib/2, mib/4))
	require.Equal(t, uint64(64*mib), goal(mib/2, mib/4, 1600))
	// Any floor: a GOGC that SetGCPercent takes whole.
	require.LessOrEqual(t, gcfloor.Percent(math.MaxUint64, 100, 0, 0), math.MaxInt32)
	require.LessOrEqual(t, gcfloor.Percent(math.MaxUint64, 100, 1, 0), math.MaxInt32)

	// Whatever the heap: the goal reaches the floor, and one percent less would not
	// (the least GOGC that does), unless GOGC stays at base.
	r := rand.New(rand.NewPCG(1, 2))
	for range 10_000 {
		floor := r.Uint64N(1<<40) + 1
		live, roots := r.Uint64N(2*floor), r.Uint64N(floor/4+1)
		base := 50 + r.IntN(200)
		p := gcfloor.Percent(floor, base, live, roots)
		require.GreaterOrEqual(t, p, base)
		require.GreaterOrEqual(t, goal(live, roots, p), floor, "floor %d live %d roots %d: %d%%", floor, live, roots, p)
		if p > base {
			require.Less(t, goal(live, roots, p-1), floor, "floor %d live %d roots %d: %d%% is not the least", floor, live, roots, p)
		}
	}
}

// The tests below set the process's GOGC: none runs in parallel, and none runs with a
// GOGC of the environment's (they expect Go's 100).

func skipWithGOGC(t *testing.T) {
	t.Helper()
	if os.Getenv("GOGC") != "" {
		t.Skip("GOGC is set in the environment")
	}
}

func readGOGC() int {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return int(s[0].Value.Uint64())
}

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// sink keeps churn's allocations from being optimised away.
var sink []byte

// churn allocates n bytes of garbage, 4 KiB at a time, and returns how many
// collections ran meanwhile.
func churn(n int) uint64 {
	before := gcCycles()
	for range n / 4096 {
		sink = make([]byte, 4096)
	}
	sink = nil
	return gcCycles() - before
}

// awaitGOGC runs collections until GOGC reads want (the tuner sets it within
// checkEvery of a collection, on its own goroutine).
func awaitGOGC(t *testing.T, want func(int) bool) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		if p := readGOGC(); want(p) {
			return p
		} else if time.Now().After(deadline) {
			t.Fatalf("GOGC is %d", p)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSetCollectsLessOftenAndStopRestores(t *testing.T) {
	skipWithGOGC(t)
	before := readGOGC()
	require.Positive(t, before)
	const garbage = 512 * mib
	runtime.GC()
	without := churn(garbage)

	stop := gcfloor.Set(256 * mib)
	t.Cleanup(stop)
	// The test process's live heap is a few MB at most: GOGC rises at once, and is
	// set again after each collection (to about the same, as about as much is live).
	awaitGOGC(t, func(p int) bool { return p > 5*before })
	// After each collection, from what it found live: with 200 MiB live, Go's own
	// growth reaches the floor and GOGC is what it was; let go, GOGC rises again.
	held := make([]byte, 200*mib)
	for i := range held { // its pages touched, as a live heap's are
		held[i] = byte(i)
	}
	awaitGOGC(t, func(p int) bool { return p == before })
	runtime.KeepAlive(held)
	held = nil
	require.Nil(t, held)
	p := awaitGOGC(t, func(p int) bool { return p > 5*before })
	with := churn(garbage)
	t.Logf("GOGC %d: %d collections for %d MiB of garbage, %d without the floor", p, with, garbage/mib, without)
	require.Greater(t, without, uint64(8), "the collector ran every few MB without the floor")
	require.Positive(t, with, "the floor is a floor: 512 MiB of garbage is collected")
	require.Less(t, with*4, without, "a quarter as many collections, or fewer, with a 256 MiB floor")

	stop()
	require.Equal(t, before, readGOGC(), "stop gives GOGC back")
	runtime.GC()
	runtime.GC()
	require.Equal(t, before, readGOGC(), "nothing sets it after stop")
	stop() // a second stop changes nothing
	require.Equal(t, before, readGOGC())
}

func TestSetDoesNothingWithoutAFloorOrWithGOGCOff(t *testing.T) {
	skipWithGOGC(t)
	before := readGOGC()
	gcfloor.Set(0)()
	runtime.GC()
	require.Equal(t, before, readGOGC())

	debug.SetGCPercent(-1)
	defer debug.SetGCPercent(before)
	stop := gcfloor.Set(256 * mib)
	t.Cleanup(stop)
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	require.Equal(t, -1, readGOGC(), "GOGC=off stays off")
	stop()
	require.Equal(t, -1, readGOGC())
}

func TestOneSetAtATime(t *testing.T) {
	skipWithGOGC(t)
	before := readGOGC()
	stop := gcfloor.Set(256 * mib)
	t.Cleanup(stop)
	p := awaitGOGC(t, func(p int) bool { return p > 5*before })
	second := gcfloor.Set(1024 * mib)
	runtime.GC()
	second() // changes nothing: the first is on
	require.InDelta(t, p, awaitGOGC(t, func(int) bool { return true }), float64(p)/10, "the first floor holds")
	stop()
	require.Equal(t, before, readGOGC())
	third := gcfloor.Set(256 * mib) // once the first is off, another may start
	t.Cleanup(third)
	awaitGOGC(t, func(p int) bool { return p > 5*before })
	third()
	require.Equal(t, before, readGOGC())
}
