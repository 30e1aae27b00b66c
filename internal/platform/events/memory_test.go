package events

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMemoryContract(t *testing.T) {
	t.Parallel()
	testBusContract(t, func(t *testing.T, logger *slog.Logger, buffer int) Bus {
		bus := NewMemory(logger, WithBufferSize(buffer))
		t.Cleanup(func() { _ = bus.Close() })
		return bus
	})
}

func TestMemoryPublishCopiesPayload(t *testing.T) {
	t.Parallel()
	bus := NewMemory(nil)
	t.Cleanup(func() { _ = bus.Close() })
	ch, err := bus.Subscribe(t.Context(), "doc:1")
	require.NoError(t, err)

	buf := []byte(`{"v":1}`)
	require.NoError(t, bus.Publish(t.Context(), "doc:1", buf))
	copy(buf, `{"v":2}`)
	require.Equal(t, []byte(`{"v":1}`), receive(t, ch))
}

// TestMemoryConcurrentUse is for the race detector: publishers, subscribers coming and
// going, and Close, all at once.
func TestMemoryConcurrentUse(t *testing.T) {
	t.Parallel()
	bus := NewMemory(nil, WithBufferSize(2))
	ctx := t.Context()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 200 {
				if err := bus.Publish(ctx, "doc:1", payload(i)); err != nil {
					assert.ErrorIs(t, err, ErrClosed)
					return
				}
			}
		})
		wg.Go(func() {
			for range 50 {
				subCtx, cancel := context.WithCancel(ctx)
				ch, err := bus.Subscribe(subCtx, "doc:1")
				if err != nil {
					cancel()
					assert.ErrorIs(t, err, ErrClosed)
					return
				}
				<-ch
				cancel()
				for range ch { // drains until the cancellation closes it
				}
			}
		})
	}
	wg.Go(func() { _ = bus.Close() })
	wg.Wait()
	require.Zero(t, bus.subscriberCount("doc:1"))
}
