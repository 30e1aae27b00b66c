// Package gcfloor keeps the garbage collector from running more often than a heap of a
// given size would make it.
//
// Go's collector starts its next cycle once the heap has grown by GOGC percent (100)
// of what the last one found live. This server's live heap is small while it serves
// short requests (about 6 MB), so under load it collected every 6–8 MB of garbage: a
// summary allocates about 100 KB, and with 8 clients that was dozens of cycles a
// second. Each cycle takes a quarter of the cores for its marking and makes the
// requests that allocate meanwhile help, and the few requests a cycle touches were
// the summary's slowest percent: its p99 was about three times its p50, where with
// cycles a tenth as frequent it was one and a half times.
//
// Set raises GOGC after each collection, just enough for the next to wait until the
// heap reaches the floor, while what is live is under half the floor; once more is
// live, GOGC is what it was, and the heap's growth between cycles is Go's. A memory
// limit (GOMEMLIMIT) still bounds the heap: near it the runtime collects whatever
// GOGC says.
package gcfloor

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// The runtime's figures of its last collection that the next cycle's goal is made of.
const (
	liveHeap    = "/gc/heap/live:bytes"
	stackRoots  = "/gc/scan/stack:bytes"
	globalRoots = "/gc/scan/globals:bytes"
	gogc        = "/gc/gogc:percent"
)

// Set keeps the next collection from starting before the heap holds floor bytes,
// from now until the returned function is called, which gives GOGC back the value it
// had. It does nothing with a floor of zero, while GOGC is off, or while an earlier
// Set is on (a process has one GOGC: the first floor holds until it is stopped).
func Set(floor uint64) (stop func()) {
	mu.Lock()
	defer mu.Unlock()
	base := readGOGC()
	if floor == 0 || base < 0 || active != nil {
		return func() {}
	}
	t := &tuner{floor: floor, base: base, percent: base}
	t.samples[0].Name, t.samples[1].Name, t.samples[2].Name = liveHeap, stackRoots, globalRoots
	active = t
	t.tuneLocked()
	t.arm()
	return t.stop
}

var (
	mu     sync.Mutex
	active *tuner // the tuner on, if any
)

// readGOGC is GOGC's current value (-1 when off).
func readGOGC() int {
	s := []metrics.Sample{{Name: gogc}}
	metrics.Read(s)
	return int(s[0].Value.Uint64()) // the runtime reports off as -1's uint64
}

// tuner sets GOGC after each collection, from what it found live. Its fields are
// mu's.
type tuner struct {
	floor   uint64
	base    int // GOGC before Set
	percent int // GOGC as the tuner last set it
	samples [3]metrics.Sample
}

// sentinel is an object nothing references, whose cleanup therefore runs after each
// collection; it holds a pointer so that it is never packed with other small objects
// (the runtime's tiny allocations share a block, freed together).
type sentinel struct{ _ *byte }

// arm has tune called after the next collection, and arm again.
func (t *tuner) arm() {
	runtime.AddCleanup(new(sentinel), func(t *tuner) {
		if t.tune() {
			t.arm()
		}
	}, t)
}

// tune sets GOGC for the next cycle and reports whether the tuner is still on.
func (t *tuner) tune() bool {
	mu.Lock()
	defer mu.Unlock()
	if active != t {
		return false
	}
	t.tuneLocked()
	return true
}

func (t *tuner) tuneLocked() {
	metrics.Read(t.samples[:])
	percent := Percent(t.floor, t.base, t.samples[0].Value.Uint64(),
		t.samples[1].Value.Uint64()+t.samples[2].Value.Uint64())
	if percent != t.percent {
		debug.SetGCPercent(percent)
		t.percent = percent
	}
}

// stop gives GOGC back its value from before Set.
func (t *tuner) stop() {
	mu.Lock()
	defer mu.Unlock()
	if active == t {
		active = nil
		debug.SetGCPercent(t.base)
	}
}

// Percent is the least GOGC that puts the next cycle's goal at floor bytes or more,
// never below base. The runtime's goal is live + (live + roots) × GOGC / 100, roots
// being the stacks and globals the collector scans, and at least heapMinimum × GOGC /
// 100: the GOGC at which that least goal is the floor is therefore the most needed.
func Percent(floor uint64, base int, live, roots uint64) int {
	if live >= floor {
		return base
	}
	// Rounded up, so that the goal is not a byte short of the floor.
	most := (floor*100 + heapMinimum - 1) / heapMinimum
	need := most
	if scanned := live + roots; scanned > 0 {
		need = min(most, ((floor-live)*100+scanned-1)/scanned)
	}
	return max(base, int(need))
}

// heapMinimum is the runtime's least heap goal at GOGC=100 (4 MiB; the gc guide's
// "minimum total heap size"), which grows with GOGC.
const heapMinimum = 4 << 20
