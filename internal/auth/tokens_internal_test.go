package auth

import (
	"crypto/sha256"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/models"
)

// verifiedTokens holds at most two maps' worth of tokens, and the ones it still holds
// are those put last, or found since in the previous map.
func TestVerifiedTokensBounded(t *testing.T) {
	var v verifiedTokens
	key := func(i int) [sha256.Size]byte { return sha256.Sum256([]byte(strconv.Itoa(i))) }
	put := func(i int) { v.put(key(i), verifiedToken{caller: models.Caller{UserID: strconv.Itoa(i)}}) }
	for i := range verifiedTokenCap {
		put(i)
	}
	// Found in the previous map once the current one filled up: moved back.
	put(verifiedTokenCap)
	got, ok := v.get(key(0))
	require.True(t, ok)
	require.Equal(t, "0", got.caller.UserID)
	for i := verifiedTokenCap + 1; i < 3*verifiedTokenCap; i++ {
		put(i)
		require.LessOrEqual(t, len(v.cur)+len(v.prev), 2*verifiedTokenCap)
	}
	_, ok = v.get(key(1))
	require.False(t, ok, "the oldest are dropped")
	_, ok = v.get(key(0))
	require.False(t, ok)
	got, ok = v.get(key(3*verifiedTokenCap - 1))
	require.True(t, ok)
	require.Equal(t, strconv.Itoa(3*verifiedTokenCap-1), got.caller.UserID)
}
