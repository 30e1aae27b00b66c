package wstransport

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
)

// clientFrame encodes a masked frame of payload n bytes, as a client sends it.
func clientFrame(fin bool, opcode byte, n int, rng *rand.Rand) []byte {
	b0 := opcode
	if fin {
		b0 |= 0x80
	}
	f := []byte{b0}
	switch {
	case n < 126:
		f = append(f, 0x80|byte(n))
	case n <= 0xffff:
		f = append(f, 0x80|126)
		f = binary.BigEndian.AppendUint16(f, uint16(n))
	default:
		f = append(f, 0x80|127)
		f = binary.BigEndian.AppendUint64(f, uint64(n))
	}
	f = append(f, byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32()), byte(rng.Uint32())) // mask key
	// The payload's bytes do not matter.
	return append(f, make([]byte, n)...)
}

// fakeRaw stands for a socket's syscall.RawConn; frameConn.Read never calls it.
type fakeRaw struct{}

func (fakeRaw) Control(func(uintptr)) error    { panic("not a socket") }
func (fakeRaw) Read(func(uintptr) bool) error  { panic("not a socket") }
func (fakeRaw) Write(func(uintptr) bool) error { panic("not a socket") }

// trickleConn is a net.Conn reading a byte stream in pieces of random size.
type trickleConn struct {
	net.Conn
	data []byte
	rng  *rand.Rand
}

func (c *trickleConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.rng.IntN(300))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// TestFrameConnStopsAtFrameEnds reads streams of client frames of every length
// encoding (7-bit, 16-bit, 64-bit; empty; pings and fragments among them) through
// frameConn in reads of random size, as gorilla's buffered reader asks, and checks that
// no read crosses the end of a frame's header or payload, and that every byte comes
// through in order.
func TestFrameConnStopsAtFrameEnds(t *testing.T) {
	sizes := []int{0, 1, 2, 125, 126, 127, 200, 4096, 65535, 65536, 70000}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 1))
		var stream []byte
		ends := map[int]bool{} // offsets where a header or a payload ends
		for range 40 {
			opcode, fin := byte(1), true
			switch rng.IntN(4) {
			case 0:
				opcode = 9 // ping, between others
			case 1:
				fin = false // a fragment; a continuation follows
			}
			n := sizes[rng.IntN(len(sizes))]
			if opcode == 9 {
				n = rng.IntN(126)
			}
			f := clientFrame(fin, opcode, n, rng)
			ends[len(stream)+len(f)-n] = true
			stream = append(stream, f...)
			ends[len(stream)] = true
			if !fin {
				n = rng.IntN(300)
				f = clientFrame(true, 0, n, rng)
				ends[len(stream)+len(f)-n] = true
				stream = append(stream, f...)
				ends[len(stream)] = true
			}
		}
		fc := newFrameConn(&trickleConn{data: stream, rng: rng})
		fc.raw = fakeRaw{} // a socket's: its reads stop at frame ends
		var got []byte
		buf := make([]byte, 1024)
		for {
			ask := 1 + rng.IntN(len(buf))
			n, err := fc.Read(buf[:ask])
			for i := 1; i < n; i++ { // an end may be where a read stops, never inside it
				require.False(t, ends[len(got)+i], "seed %d: a read of %d bytes at %d crosses an end at %d", seed, n, len(got), len(got)+i)
			}
			got = append(got, buf[:n]...)
			if errors.Is(err, io.EOF) {
				break
			}
			require.NoError(t, err)
		}
		require.Equal(t, stream, got, "seed %d", seed)
		require.Zero(t, fc.payload)
		require.Zero(t, fc.headRead)
	}
}

// TestWholeControl: only a whole, final, masked ping or pong of at most 125 bytes is
// taken between messages; anything else, or a frame not all in yet, is gorilla's.
func TestWholeControl(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	ping := clientFrame(true, 9, 5, rng)
	pong := clientFrame(true, 10, 0, rng)
	for _, tc := range []struct {
		name  string
		b     []byte
		op, n byte
	}{
		{"ping", ping, 9, 5},
		{"ping and more", append(append([]byte{}, ping...), 0x81, 0x80), 9, 5},
		{"pong, empty", pong, 10, 0},
		{"ping not all in", ping[:len(ping)-1], 0, 0},
		{"header not all in", ping[:5], 0, 0},
		{"text", clientFrame(true, 1, 3, rng), 0, 0},
		{"close", clientFrame(true, 8, 2, rng), 0, 0},
		{"ping not final", clientFrame(false, 9, 1, rng), 0, 0},
		{"reserved bit", append([]byte{0x80 | 0x40 | 9}, ping[1:]...), 0, 0},
		{"unmasked", append([]byte{0x89, 0x01}, 'x', 0, 0, 0), 0, 0},
		{"too long for a control frame", clientFrame(true, 9, 126, rng), 0, 0},
	} {
		op, n := wholeControl(tc.b)
		require.Equal(t, [2]byte{tc.op, tc.n}, [2]byte{op, n}, tc.name)
	}
}
