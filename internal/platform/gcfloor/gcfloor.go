// Package gcfloor keeps the garbage collector from running more often than a heap of a
// given size would make it.
//
// Go's collector aims its next cycle at a heap GOGC percent (100) larger than what
// the last one found live. This server's live heap is small while it serves short
// requests (about 6 MB), so under load it collected every 6–8 MB of garbage: a
// summary allocates about 100 KB, and with 8 clients that was dozens of cycles a
// second. Each cycle takes a quarter of the cores for its marking and makes the
// requests that allocate meanwhile help, and the few requests a cycle touches were
// the summary's slowest percent: its p99 was about three times its p50, where with
// cycles a tenth as frequent it was under twice.
//
// Set raises GOGC after each collection, just enough for the next cycle's heap goal
// to be the floor, while what is live is under half the floor; once more is live,
// GOGC is what it was, and the heap's growth between cycles is Go's. GOGC is set
// within checkEvery of a collection: until then the one set for the last, smaller
// live heap applies to the new one, and the heap may grow past the floor by what
// the process allocates meanwhile. A memory limit (GOMEMLIMIT) still bounds the
// heap: near it the runtime collects whatever GOGC says.
package gcfloor

import (
	"math"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// The runtime's figures of its collections: their count, and what the next cycle's
// goal is made of.
const (
	cycles      = "/gc/cycles/total:gc-cycles"
	liveHeap    = "/gc/heap/live:bytes"
	stackRoots  = "/gc/scan/stack:bytes"
	globalRoots = "/gc/scan/globals:bytes"
	gogc        = "/gc/gogc:percent"
)

// checkEvery is how often the tuner looks for a collection it has not seen: a read
// of one runtime metric, about a microsecond.
const checkEvery = 10 * time.Millisecond

// Set raises GOGC so that the next cycle's heap goal is at least floor bytes, from
// now until the returned function is called, which gives GOGC back the value it
// had. It does nothing with a floor of zero, while GOGC is off, or while an earlier
// Set is on (a process has one GOGC: the first floor holds until it is stopped).
// While it is on, it owns GOGC: what anything else sets is overwritten after the
// next collection.
func Set(floor uint64) (stop func()) {
	mu.Lock()
	defer mu.Unlock()
	base := readGOGC()
	if floor == 0 || base < 0 || active != nil {
		return func() {}
	}
	t := &tuner{floor: floor, base: base, percent: base, done: make(chan struct{})}
	t.samples[0].Name, t.samples[1].Name, t.samples[2].Name, t.samples[3].Name = cycles, liveHeap, stackRoots, globalRoots
	active = t
	t.tuneLocked()
	go t.watch()
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

// tuner sets GOGC after each collection, from what it found live. Its fields but
// done are mu's.
type tuner struct {
	floor   uint64
	base    int // GOGC before Set
	percent int // GOGC as the tuner last set it
	seen    uint64
	samples [4]metrics.Sample
	done    chan struct{} // closed by stop
}

// watch tunes after each collection until stop.
func (t *tuner) watch() {
	tick := time.NewTicker(checkEvery)
	defer tick.Stop()
	count := []metrics.Sample{{Name: cycles}}
	for {
		select {
		case <-t.done:
			return
		case <-tick.C:
		}
		metrics.Read(count)
		mu.Lock()
		if active != t {
			mu.Unlock()
			return
		}
		if count[0].Value.Uint64() != t.seen {
			t.tuneLocked()
		}
		mu.Unlock()
	}
}

// tuneLocked sets GOGC for the next cycle from the last one's figures.
func (t *tuner) tuneLocked() {
	metrics.Read(t.samples[:])
	t.seen = t.samples[0].Value.Uint64()
	percent := Percent(t.floor, t.base, t.samples[1].Value.Uint64(),
		t.samples[2].Value.Uint64()+t.samples[3].Value.Uint64())
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
		close(t.done)
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
	floor = min(floor, maxFloor)
	// Rounded up, so that the goal is not a byte short of the floor.
	most := (floor*100 + heapMinimum - 1) / heapMinimum
	need := most
	if scanned := live + roots; scanned > 0 {
		need = min(most, ((floor-live)*100+scanned-1)/scanned)
	}
	return max(base, int(need))
}

// heapMinimum is the runtime's least heap goal at GOGC=100 (4 MiB, the gc guide's
// "minimum total heap size"; 512 KiB under GOEXPERIMENT=heapminimum512kib, with which
// the floor would be reached at a lower GOGC than Percent's), which grows with GOGC.
const heapMinimum = 4 << 20

// maxFloor keeps Percent's arithmetic in range: a GOGC of at most 100 × maxFloor /
// heapMinimum, which SetGCPercent takes whole (an int32).
const maxFloor = heapMinimum * (math.MaxInt32 / 100)
