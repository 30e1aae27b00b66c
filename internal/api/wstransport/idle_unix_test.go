//go:build unix

package wstransport_test

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
)

// TestIdleSocketWaitsAtTheTop checks where an idle socket's reading goroutine waits,
// with keep-alives every 50 ms which the client answers (a pong frame for each ping
// frame, gorilla's default) and pings of the client's own: in the read loop's own
// frame (waitMessage), not inside gorilla's frame reader, whose frames would keep its
// stack at 8 KiB rather than 4. The pongs are taken between messages, so the silent
// peer check never closes the socket, and the client's pings are answered.
func TestIdleSocketWaitsAtTheTop(t *testing.T) {
	const keepAlive = 50 * time.Millisecond
	for _, p := range bothProtocols {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t, &wstransport.Transport{Authenticate: tokenAuth(0), KeepAlive: keepAlive})
			c := e.connectAcked(t, p)
			c.subscribe(p, "s1", "subscription { events }", nil)
			require.Eventually(t, func() bool { return e.b.subscribers() == 1 }, waitFor, tick)

			pongs := make(chan string, 16)
			c.ws.SetPongHandler(func(data string) error { pongs <- data; return nil })
			readErr := make(chan error, 1)
			go func() { // the client reads: its gorilla answers the server's ping frames
				for {
					if _, _, err := c.ws.ReadMessage(); err != nil {
						readErr <- err
						return
					}
				}
			}()
			require.NoError(t, c.ws.WriteControl(websocket.PingMessage, []byte("mine"), time.Now().Add(waitFor)))
			require.Equal(t, "mine", recv(t, pongs))

			time.Sleep(10 * keepAlive) // pings and pongs go both ways meanwhile
			select {
			case err := <-readErr:
				t.Fatalf("the socket closed: %v", err)
			default:
			}

			var readers []string
			require.Eventually(t, func() bool {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				readers = readers[:0]
				for _, g := range strings.Split(string(buf), "\n\n") {
					if strings.Contains(g, "wstransport.(*conn).serve(") {
						readers = append(readers, g)
					}
				}
				if len(readers) == 0 {
					return false
				}
				for _, g := range readers {
					if !strings.Contains(g, "[IO wait") || !strings.Contains(g, "waitMessage") || strings.Contains(g, "NextReader") {
						return false
					}
				}
				return true
			}, waitFor, tick, "the socket readers' stacks: %v", readers)
			require.Equal(t, 1, e.b.subscribers(), "the subscription is still open")
		})
	}
}
