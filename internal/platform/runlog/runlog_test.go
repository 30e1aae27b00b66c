package runlog

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// logs are the implementations under the one contract, each fresh and apart from
// every other test's (the Redis one under a prefix of its own).
func logs(t *testing.T, limits Limits) map[string]Log {
	return map[string]Log{
		"memory": NewMemory(limits),
		"redis":  NewRedis(testkit.Redis(t), "test:runlog:"+testkit.RandomHex(8)+":", limits, nil),
	}
}

// collect reads entries until the channel closes.
func collect(t *testing.T, ch <-chan Entry) []Entry {
	t.Helper()
	var got []Entry
	timeout := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return got
			}
			got = append(got, e)
		case <-timeout:
			t.Fatalf("the follower did not end; got %d entries", len(got))
		}
	}
}

func data(seq int) []byte { return fmt.Appendf(nil, `{"seq":%d}`, seq) }

func seqs(entries []Entry) []int {
	out := make([]int, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}

func TestContract(t *testing.T) {
	t.Parallel()
	for name, l := range logs(t, Limits{Retain: time.Minute}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			run := testkit.RandomHex(8)
			w, err := l.Open(ctx, run, "alice")
			require.NoError(t, err)

			_, err = l.Follow(ctx, run, "mallory", 0)
			require.ErrorIs(t, err, ErrNotFound, "another owner's run")
			_, err = l.Follow(ctx, "nope", "alice", 0)
			require.ErrorIs(t, err, ErrNotFound, "an unknown run")

			for seq := 1; seq <= 3; seq++ {
				w.Append(seq, data(seq))
			}
			// A follower from seq 1 on gets 2 and 3, then each entry as it comes.
			live, err := l.Follow(ctx, run, "alice", 1)
			require.NoError(t, err)
			require.Eventually(t, func() bool { return w.Followed(ctx) }, 5*time.Second, 10*time.Millisecond)
			for seq := 4; seq <= 6; seq++ {
				w.Append(seq, data(seq))
			}
			w.End()
			got := collect(t, live)
			require.Equal(t, []int{2, 3, 4, 5, 6}, seqs(got))
			for _, e := range got {
				require.Equal(t, data(e.Seq), e.Data)
				require.NoError(t, e.Err)
			}

			// After the end: the remainder, then the channel closes.
			again, err := l.Follow(ctx, run, "alice", 4)
			require.NoError(t, err)
			require.Equal(t, []int{5, 6}, seqs(collect(t, again)))
			past, err := l.Follow(ctx, run, "alice", 6)
			require.NoError(t, err)
			require.Empty(t, collect(t, past))
		})
	}
}

func TestTruncatedAtMaxBytes(t *testing.T) {
	t.Parallel()
	for name, l := range logs(t, Limits{Retain: time.Minute, MaxBytes: 3 * len(data(1))}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			run := testkit.RandomHex(8)
			w, err := l.Open(ctx, run, "alice")
			require.NoError(t, err)
			for seq := 1; seq <= 5; seq++ {
				w.Append(seq, data(seq))
			}
			w.End()
			ch, err := l.Follow(ctx, run, "alice", 0)
			require.NoError(t, err)
			got := collect(t, ch)
			require.Len(t, got, 4)
			require.Equal(t, []int{1, 2, 3}, seqs(got[:3]))
			require.ErrorIs(t, got[3].Err, ErrTruncated)
		})
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	for name, l := range logs(t, Limits{Retain: 200 * time.Millisecond}) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			run := testkit.RandomHex(8)
			w, err := l.Open(ctx, run, "alice")
			require.NoError(t, err)
			w.Append(1, data(1))
			w.End()
			require.Eventually(t, func() bool {
				_, err := l.Follow(ctx, run, "alice", 0)
				return errors.Is(err, ErrNotFound)
			}, 10*time.Second, 50*time.Millisecond, "the log is forgotten after its retention")
		})
	}
}

func TestFollowerLeavesWithItsContext(t *testing.T) {
	t.Parallel()
	for name, l := range logs(t, Limits{}) {
		t.Run(name, func(t *testing.T) {
			run := testkit.RandomHex(8)
			w, err := l.Open(context.Background(), run, "alice")
			require.NoError(t, err)
			defer w.End()
			ctx, cancel := context.WithCancel(context.Background())
			ch, err := l.Follow(ctx, run, "alice", 0)
			require.NoError(t, err)
			cancel()
			require.Empty(t, collect(t, ch))
		})
	}
}

// TestRedisWriterGone: a run whose instance stopped (no heartbeat, no end) ends its
// followers with ErrLost rather than leaving them waiting.
func TestRedisWriterGone(t *testing.T) {
	t.Parallel()
	c := testkit.Redis(t)
	prefix := "test:runlog:" + testkit.RandomHex(8) + ":"
	l := NewRedis(c, prefix, Limits{}, nil)
	ctx := context.Background()
	run := testkit.RandomHex(8)
	w, err := l.Open(ctx, run, "alice")
	require.NoError(t, err)
	w.Append(1, data(1))
	rw := w.(*redisWriter)
	rw.mu.Lock()
	rw.beat.Stop() // the instance stops: no more heartbeats, no End
	rw.mu.Unlock()
	require.NoError(t, c.Del(ctx, prefix+"run:"+run+":alive").Err())
	ch, err := l.Follow(ctx, run, "alice", 0)
	require.NoError(t, err)
	got := collect(t, ch)
	require.Len(t, got, 2)
	require.Equal(t, 1, got[0].Seq)
	require.ErrorIs(t, got[1].Err, ErrLost)
}

// TestMemoryTotalBound: the in-process log cuts a run that would take it past its
// total, and frees a run's bytes when it is forgotten.
func TestMemoryTotalBound(t *testing.T) {
	t.Parallel()
	size := len(data(1))
	l := NewMemory(Limits{Retain: 50 * time.Millisecond, MaxTotalBytes: 3 * size})
	ctx := context.Background()
	a, err := l.Open(ctx, "a", "alice")
	require.NoError(t, err)
	b, err := l.Open(ctx, "b", "alice")
	require.NoError(t, err)
	a.Append(1, data(1))
	a.Append(2, data(2))
	b.Append(1, data(1))
	b.Append(2, data(2)) // past the total
	b.End()
	ch, err := l.Follow(ctx, "b", "alice", 0)
	require.NoError(t, err)
	got := collect(t, ch)
	require.Len(t, got, 2)
	require.ErrorIs(t, got[1].Err, ErrTruncated)
	a.End()
	require.Eventually(t, func() bool {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.total == 0
	}, 5*time.Second, 10*time.Millisecond, "forgotten runs free their bytes")
}
