package testkit

import (
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// SettledGoroutines returns the goroutine count once it is the same on two polls in a
// row, so goroutines started late on a busy machine are part of the baseline. It counts
// inside require.Eventually's condition goroutine; compare later counts the same way:
//
//	require.Eventually(t, func() bool { return runtime.NumGoroutine() <= baseline }, …)
func SettledGoroutines(t testing.TB) int {
	t.Helper()
	last := -1
	require.Eventually(t, func() bool {
		n := runtime.NumGoroutine()
		settled := n == last
		last = n
		return settled
	}, 10*time.Second, 50*time.Millisecond)
	return last
}
