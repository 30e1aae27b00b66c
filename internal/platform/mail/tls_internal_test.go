package mail

import (
	"bufio"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// plainServer is an SMTP server on loopback that offers no STARTTLS and answers QUIT
// with quitReply; it counts the messages it accepted.
func plainServer(t *testing.T, quitReply string) (addr string, accepted chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	accepted = make(chan struct{}, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				say := func(s string) { _, _ = c.Write([]byte(s + "\r\n")) }
				say("220 test ESMTP")
				inData := false
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					cmd := strings.ToUpper(strings.TrimSpace(line))
					switch {
					case inData && cmd == ".":
						inData = false
						accepted <- struct{}{}
						say("250 queued")
					case inData:
					case cmd == "DATA":
						inData = true
						say("354 go on")
					case cmd == "QUIT":
						say(quitReply)
						return
					default:
						say("250 ok")
					}
				}
			}()
		}
	}()
	return ln.Addr().String(), accepted
}

func TestNoMessageInClearToAnotherMachine(t *testing.T) {
	t.Parallel()
	addr, accepted := plainServer(t, "221 bye")
	m, err := New(Config{URL: "smtp://" + addr, From: "noreply@inkgraph.test"})
	require.NoError(t, err)
	require.True(t, m.plainOK, "a server on loopback may go without STARTTLS")
	msg := Message{To: "a@example.com", Subject: "x", Text: "x"}
	require.NoError(t, m.Send(context.Background(), msg))
	require.Len(t, accepted, 1)

	// The same server as if it were on another machine (what New decides for any
	// host that is not loopback: see TestPlainOnlyOnLoopback).
	m.plainOK = false
	err = m.Send(context.Background(), msg)
	require.ErrorContains(t, err, "STARTTLS")
	require.Len(t, accepted, 1, "nothing was sent")
}

func TestPlainOnlyOnLoopback(t *testing.T) {
	t.Parallel()
	for host, plain := range map[string]bool{
		"127.0.0.1": true, "[::1]": true, "localhost": true, "LOCALHOST": true,
		"mail.example.com": false, "10.0.0.5": false, "192.168.1.2": false, "localhost.example.com": false,
	} {
		m, err := New(Config{URL: "smtp://" + host + ":2525", From: "noreply@inkgraph.test"})
		require.NoError(t, err, host)
		require.Equal(t, plain, m.plainOK, host)
	}
}

// A QUIT that fails after the server accepted the message does not make a sent
// message unsent.
func TestSendSucceedsWhenOnlyQuitFails(t *testing.T) {
	t.Parallel()
	addr, accepted := plainServer(t, "421 closing with an error")
	m, err := New(Config{URL: "smtp://" + addr, From: "noreply@inkgraph.test"})
	require.NoError(t, err)
	require.NoError(t, m.Send(context.Background(), Message{To: "a@example.com", Subject: "x", Text: "x"}))
	require.Len(t, accepted, 1)
}
