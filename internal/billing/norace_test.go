//go:build !race

package billing_test

// raceEnabled is true in tests built with -race.
const raceEnabled = false
