package events

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/testkit"
)

// receiveTimeout is generous because a Postgres delivery is a round trip through the server.
const receiveTimeout = 5 * time.Second

// newBusFunc builds a fresh, isolated bus whose subscribers hold buffer events; the test
// owns closing it (Cleanup is registered too, closing twice must be harmless).
type newBusFunc func(t *testing.T, logger *slog.Logger, buffer int) Bus

// subscriberCounter is implemented by both buses so the contract can see a subscriber go away.
type subscriberCounter interface {
	subscriberCount(topic string) int
}

// testBusContract is what every Bus must do, whatever carries the events.
func testBusContract(t *testing.T, newBus newBusFunc) {
	t.Run("DeliversToEverySubscriberInOrder", func(t *testing.T) {
		t.Parallel()
		bus := newBus(t, nil, DefaultBufferSize)
		ctx := t.Context()
		subs := make([]<-chan []byte, 3)
		for i := range subs {
			ch, err := bus.Subscribe(ctx, "doc:1")
			require.NoError(t, err)
			subs[i] = ch
		}
		for i := range 3 {
			require.NoError(t, bus.Publish(ctx, "doc:1", payload(i)))
		}
		for _, ch := range subs {
			for i := range 3 {
				require.Equal(t, payload(i), receive(t, ch))
			}
		}
	})

	t.Run("DoesNotDeliverOtherTopics", func(t *testing.T) {
		t.Parallel()
		bus := newBus(t, nil, DefaultBufferSize)
		ctx := t.Context()
		mine, err := bus.Subscribe(ctx, "doc:1")
		require.NoError(t, err)
		other, err := bus.Subscribe(ctx, "doc:2")
		require.NoError(t, err)

		// Events arrive in publish order, so interleaving the topics shows that nothing
		// crossed over: a stray event would arrive in place of the expected one.
		sent := []struct{ topic, payload string }{
			{"doc:2", `"a"`}, {"doc:1", `"b"`}, {"doc:2", `"c"`}, {"doc:1", `"d"`},
		}
		for _, e := range sent {
			require.NoError(t, bus.Publish(ctx, e.topic, []byte(e.payload)))
		}
		require.Equal(t, []byte(`"b"`), receive(t, mine))
		require.Equal(t, []byte(`"d"`), receive(t, mine))
		require.Equal(t, []byte(`"a"`), receive(t, other))
		require.Equal(t, []byte(`"c"`), receive(t, other))
	})

	t.Run("OnlyEventsAfterSubscribe", func(t *testing.T) {
		t.Parallel()
		bus := newBus(t, nil, DefaultBufferSize)
		ctx := t.Context()
		early, err := bus.Subscribe(ctx, "doc:1")
		require.NoError(t, err)
		require.NoError(t, bus.Publish(ctx, "doc:1", payload(0)))
		require.Equal(t, payload(0), receive(t, early))

		late, err := bus.Subscribe(ctx, "doc:1")
		require.NoError(t, err)
		require.NoError(t, bus.Publish(ctx, "doc:1", payload(1)))
		require.Equal(t, payload(1), receive(t, late))
		require.Equal(t, payload(1), receive(t, early))
	})

	t.Run("CancelClosesChannelAndFreesSubscriber", func(t *testing.T) {
		t.Parallel()
		bus := newBus(t, nil, DefaultBufferSize)
		counter, ok := bus.(subscriberCounter)
		require.True(t, ok, "%T must report its subscribers", bus)

		subCtx, cancel := context.WithCancel(t.Context())
		leaving, err := bus.Subscribe(subCtx, "doc:1")
		require.NoError(t, err)
		staying, err := bus.Subscribe(t.Context(), "doc:1")
		require.NoError(t, err)
		require.Equal(t, 2, counter.subscriberCount("doc:1"))

		cancel()
		requireClosed(t, leaving)
		require.Eventually(t, func() bool { return counter.subscriberCount("doc:1") == 1 },
			receiveTimeout, 5*time.Millisecond)

		require.NoError(t, bus.Publish(t.Context(), "doc:1", payload(1)))
		require.Equal(t, payload(1), receive(t, staying))
	})

	t.Run("SubscribeWithEndedContextFails", func(t *testing.T) {
		t.Parallel()
		bus := newBus(t, nil, DefaultBufferSize)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := bus.Subscribe(ctx, "doc:1")
		require.ErrorIs(t, err, context.Canceled)
	})

	t.Run("CloseClosesAllChannels", func(t *testing.T) {
		t.Parallel()
		bus := newBus(t, nil, DefaultBufferSize)
		ctx := t.Context()
		var chans []<-chan []byte
		for _, topic := range []string{"doc:1", "doc:1", "doc:2"} {
			ch, err := bus.Subscribe(ctx, topic)
			require.NoError(t, err)
			chans = append(chans, ch)
		}
		require.NoError(t, bus.Close())
		for _, ch := range chans {
			requireClosed(t, ch)
		}

		require.NoError(t, bus.Close(), "closing twice")
		_, err := bus.Subscribe(ctx, "doc:1")
		require.ErrorIs(t, err, ErrClosed)
		require.ErrorIs(t, bus.Publish(ctx, "doc:1", payload(0)), ErrClosed)
	})

	t.Run("SlowSubscriberBlocksNeitherPublishNorOthers", func(t *testing.T) {
		t.Parallel()
		const buffer = 4
		logs := &testkit.SyncBuffer{}
		bus := newBus(t, slog.New(slog.NewTextHandler(logs, nil)), buffer)
		ctx := t.Context()
		slow, err := bus.Subscribe(ctx, "doc:1") // never read until the end
		require.NoError(t, err)
		fast, err := bus.Subscribe(ctx, "doc:1")
		require.NoError(t, err)
		marker, err := bus.Subscribe(ctx, "doc:marker")
		require.NoError(t, err)

		// In lockstep with the fast subscriber, so only the slow one can fall behind.
		for i := range 3 * buffer {
			publishCtx, cancel := context.WithTimeout(ctx, receiveTimeout)
			err := bus.Publish(publishCtx, "doc:1", payload(i))
			cancel()
			require.NoError(t, err, "publish %d", i)
			require.Equal(t, payload(i), receive(t, fast), "fast subscriber, event %d", i)
		}
		// The fast subscriber may have its last event before the slow one is offered it
		// (a bus hands an event to its subscribers in no set order): had the test read
		// the slow one meanwhile, that event would find room and arrive in place of 99.
		// Events are handed over in publish order, so once a later one has arrived,
		// every offer of the last is over.
		require.NoError(t, bus.Publish(ctx, "doc:marker", payload(0)))
		require.Equal(t, payload(0), receive(t, marker))

		// The slow subscriber kept the oldest events and lost the rest.
		require.Len(t, slow, buffer)
		for i := range buffer {
			require.Equal(t, payload(i), receive(t, slow))
		}
		require.Contains(t, logs.String(), `level=WARN msg="events: subscriber is not keeping up`)

		// Having caught up, it receives again, and says how much it lost.
		require.NoError(t, bus.Publish(ctx, "doc:1", payload(99)))
		require.Equal(t, payload(99), receive(t, slow))
		require.Equal(t, payload(99), receive(t, fast))
		// A bus may log after handing the event over, so the line can trail the receive.
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), fmt.Sprintf("lost=%d", 2*buffer)) },
			receiveTimeout, 5*time.Millisecond)
	})
}

func payload(i int) []byte { return fmt.Appendf(nil, `{"seq":%d}`, i) }

func receive(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case v, ok := <-ch:
		require.True(t, ok, "channel closed while waiting for an event")
		return v
	case <-time.After(receiveTimeout):
		require.FailNow(t, "no event within "+receiveTimeout.String())
		return nil
	}
}

// requireClosed drains ch until it is closed, failing if that takes too long.
func requireClosed(t *testing.T, ch <-chan []byte) {
	t.Helper()
	timeout := time.After(receiveTimeout)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			require.FailNow(t, "channel not closed within "+receiveTimeout.String())
		}
	}
}
