package testkit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/inkgraph/inkgraph/models"
)

// Clock is a clock only the test moves. Its times are whole seconds by default
// (NewClock), so they survive every dialect's timestamp precision and Stripe's.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// DefaultTime is where NewClock starts when given the zero time.
var DefaultTime = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// NewClock returns a clock standing at start, or at DefaultTime when start is zero.
func NewClock(start time.Time) *Clock {
	if start.IsZero() {
		start = DefaultTime
	}
	return &Clock{t: start}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Add moves the clock by d and returns the new time.
func (c *Clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// RequireCode checks that err is a *models.Error with code and, when a field is
// given, exactly that field ("" asserts that the error names none); it returns the
// error for further checks.
func RequireCode(t testing.TB, err error, code string, field ...string) *models.Error {
	t.Helper()
	require.Error(t, err)
	var e *models.Error
	require.True(t, errors.As(err, &e), "not a *models.Error: %v", err)
	require.Equal(t, code, e.Code, "error: %v", err)
	if len(field) > 0 {
		require.Equal(t, field[0], e.Field, "error: %v", err)
	}
	return e
}

// Tiers is a tier lookup fake: each user's tier as the test sets it, free otherwise,
// with one seat unless the test says more. It satisfies every area's small Tiers
// interface without a database.
type Tiers struct {
	mu    sync.Mutex
	tiers map[string]models.Tier
	seats map[string]int
	// Err, when set, is what every lookup answers.
	Err error
}

// NewTiers returns a fake where every user is free.
func NewTiers() *Tiers {
	return &Tiers{tiers: map[string]models.Tier{}, seats: map[string]int{}}
}

// Set gives userID tier (and seats, when given).
func (f *Tiers) Set(userID string, tier models.Tier, seats ...int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tiers[userID] = tier
	if len(seats) > 0 {
		f.seats[userID] = seats[0]
	}
}

// TierOf returns the user's tier.
func (f *Tiers) TierOf(_ context.Context, userID string) (models.Tier, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return "", f.Err
	}
	if t, ok := f.tiers[userID]; ok {
		return t, nil
	}
	return models.TierFree, nil
}

// Seats returns the user's paid seats (1 unless set).
func (f *Tiers) Seats(userID string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.seats[userID]; ok {
		return n
	}
	return 1
}

// NewUser inserts a user on tier, created at now, and returns its ID: the row that
// every area's data hangs off. Its password hash is a placeholder no password matches.
func NewUser(t testing.TB, db bun.IDB, tier models.Tier, now time.Time) string {
	t.Helper()
	id := uuid.Must(uuid.NewV7()).String()
	_, err := db.NewInsert().Model(&models.User{
		ID: id, Email: id + "@example.com", PasswordHash: "x", Tier: tier, CreatedAt: now, UpdatedAt: now,
	}).Exec(context.Background())
	require.NoError(t, err)
	return id
}
