package auth

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"
)

// The dummy an unknown email is compared against costs what a real account's hash
// costs: it is a genuine bcrypt hash whose cost field is the configured one.
func TestDummyHashCostsTheConfiguredCost(t *testing.T) {
	t.Parallel()
	h, err := newHasher(bcrypt.MinCost)
	require.NoError(t, err)
	require.NoError(t, bcrypt.CompareHashAndPassword(h.dummy, []byte("inkgraph-timing-equaliser")),
		"at cost 4 the dummy is the real hash of its password: its salt and digest are bcrypt's own")

	for _, cost := range []int{bcrypt.MinCost, 5, 6, 10, 12, 31} {
		h, err := newHasher(cost)
		require.NoError(t, err)
		got, err := bcrypt.Cost(h.dummy)
		require.NoError(t, err)
		require.Equal(t, cost, got, "compared at the configured cost")
		if cost > 6 {
			continue // the comparison itself is slow; the parse above is what the cost says
		}
		err = bcrypt.CompareHashAndPassword(h.dummy, []byte("inkgraph-timing-equaliser"))
		if cost != bcrypt.MinCost {
			require.ErrorIs(t, err, bcrypt.ErrMismatchedHashAndPassword,
				"a well-formed hash: bcrypt ran its rounds and then compared digests")
		}
		for _, pw := range []string{"inkgraph-timing-equaliser", "password1", ""} {
			ok, err := h.matches("", pw)
			require.NoError(t, err)
			require.False(t, ok, "no password signs in to an account that does not exist")
		}
	}

	for _, cost := range []int{3, 32} {
		_, err := newHasher(cost)
		require.Error(t, err, cost)
	}
}

func TestHashAndMatch(t *testing.T) {
	t.Parallel()
	h, err := newHasher(bcrypt.MinCost)
	require.NoError(t, err)
	hash, err := h.hash("password1")
	require.NoError(t, err)
	got, err := bcrypt.Cost([]byte(hash))
	require.NoError(t, err)
	require.Equal(t, bcrypt.MinCost, got)
	for pw, want := range map[string]bool{"password1": true, "password2": false, "": false} {
		ok, err := h.matches(hash, pw)
		require.NoError(t, err)
		require.Equal(t, want, ok, pw)
	}
	_, err = h.matches("not a hash", "password1")
	require.Error(t, err, "a damaged stored hash is an error, not a wrong password")
	require.False(t, errors.Is(err, bcrypt.ErrMismatchedHashAndPassword))
}

// BenchmarkSignInTiming compares what a sign-in with an unknown email and one with a
// wrong password spend in bcrypt (at cost 10): the ratio should be about 1.
func BenchmarkSignInTiming(b *testing.B) {
	h, err := newHasher(10)
	if err != nil {
		b.Fatal(err)
	}
	hash, err := h.hash("password1")
	if err != nil {
		b.Fatal(err)
	}
	var known, unknown int64
	for b.Loop() {
		start := b.Elapsed()
		if _, err := h.matches(hash, "wrong-password"); err != nil {
			b.Fatal(err)
		}
		mid := b.Elapsed()
		if _, err := h.matches("", "wrong-password"); err != nil {
			b.Fatal(err)
		}
		known += int64(mid - start)
		unknown += int64(b.Elapsed() - mid)
	}
	b.ReportMetric(float64(unknown)/float64(known), "x_unknown_vs_wrong_password")
}
