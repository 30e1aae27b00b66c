package workers

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestReusesAndRetires: a pool's goroutine runs the tasks given while it is idle, and
// ends once idle for idleFor.
func TestReusesAndRetires(t *testing.T) {
	p := New(50 * time.Millisecond)
	var first, second uint64
	var wg sync.WaitGroup
	wg.Add(1)
	p.Go(func() { first = goroutineID(); wg.Done() })
	wg.Wait()
	require.Eventually(t, func() bool { return p.idleCount() == 1 }, 5*time.Second, time.Millisecond)
	wg.Add(1)
	p.Go(func() { second = goroutineID(); wg.Done() })
	wg.Wait()
	require.Equal(t, first, second, "the idle goroutine ran the second task")
	require.Eventually(t, func() bool { return p.idleCount() == 0 }, 5*time.Second, time.Millisecond, "the idle goroutine ended")
}

// TestDo: Do returns once f has run, on another goroutine.
func TestDo(t *testing.T) {
	p := New(time.Minute)
	var ran uint64
	p.Do(func() {
		time.Sleep(10 * time.Millisecond)
		ran = goroutineID()
	})
	require.NotZero(t, ran, "f has run when Do returns")
	require.NotEqual(t, goroutineID(), ran, "on a pooled goroutine")
}

// countTask is a Task counting its runs.
type countTask struct {
	runs int
	wg   sync.WaitGroup
}

func (c *countTask) Run() {
	c.runs++
	c.wg.Done()
}

// TestRunTakesATask: Run runs a Task on a pooled goroutine, and giving an idle
// goroutine a pointer to one allocates nothing.
func TestRunTakesATask(t *testing.T) {
	p := New(time.Minute)
	task := &countTask{}
	run := func() {
		for p.idleCount() == 0 { // the last run's goroutine is back on the idle list
			runtime.Gosched()
		}
		task.wg.Add(1)
		p.Run(task)
		task.wg.Wait()
	}
	task.wg.Add(1)
	p.Run(task)
	task.wg.Wait()
	allocs := testing.AllocsPerRun(100, run)
	require.Zero(t, allocs)
	require.Equal(t, 102, task.runs, "the first run, AllocsPerRun's warm-up and its 100")
}

// TestGrowsAShrunkStackOnly: a pooled goroutine grows its stack before its first task,
// not again before the next, and again once a collection has shrunk it.
func TestGrowsAShrunkStackOnly(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1)) // no collection but the test's
	p := New(time.Minute)
	task := func() {
		p.Do(func() {})
		require.Eventually(t, func() bool { return p.idleCount() == 1 }, 5*time.Second, time.Millisecond)
	}
	before := stackGrowths.Load()
	task()
	require.Equal(t, before+1, stackGrowths.Load(), "grown before the first task")
	task()
	task()
	require.Equal(t, before+1, stackGrowths.Load(), "not again while the stack is the same")
	runtime.GC() // shrinks the idle goroutine's stack, which it hardly uses
	task()
	require.Equal(t, before+2, stackGrowths.Load(), "grown again once shrunk")
}

// idleCount is how many of p's goroutines wait for a task.
func (p *Pool) idleCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func goroutineID() uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	var id uint64
	_, _ = fmt.Sscanf(string(buf), "goroutine %d ", &id)
	return id
}
