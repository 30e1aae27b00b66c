package graph

import (
	"bytes"
	"sync/atomic"
	"unsafe"

	"github.com/vektah/gqlparser/v2/ast"
)

// responseSizes remembers the size of each operation's last response, so that its
// next one is written into a buffer of about that size, not one doubled from 64 bytes
// up: an 8 KB answer made about 8 KB of garbage on the way, and the copies with it.
// gqlgen's query cache hands every request of a document the same parsed operation,
// which is the key. The table is direct-mapped and holds no pointers (the key is the
// operation's address, compared, never followed): two operations in one slot take
// turns, and a stale entry only sizes a buffer wrongly.
var responseSizes [256]atomic.Uint64

// maxResponseHint bounds the buffer a hint asks for.
const maxResponseHint = 1 << 20

// responseSlot returns op's slot and the key stored with its size.
func responseSlot(op *ast.OperationDefinition) (*atomic.Uint64, uint32) {
	addr := uint64(uintptr(unsafe.Pointer(op)))
	h := addr * 0x9e3779b97f4a7c15 // Fibonacci hashing: the address's high bits mixed into the top
	return &responseSizes[h>>56], uint32(addr>>3) | 1
}

// responseBuffer returns the buffer op's response is written into: of op's last
// response's size and an eighth more, or gqlgen's empty one for an operation not seen.
func responseBuffer(op *ast.OperationDefinition) *bytes.Buffer {
	slot, key := responseSlot(op)
	if e := slot.Load(); uint32(e>>32) == key {
		return bytes.NewBuffer(make([]byte, 0, int(uint32(e))+int(uint32(e))/8))
	}
	return new(bytes.Buffer)
}

// rememberResponse notes data's size as op's and returns data.
func rememberResponse(op *ast.OperationDefinition, data []byte) []byte {
	if n := len(data); n > 0 && n <= maxResponseHint {
		slot, key := responseSlot(op)
		slot.Store(uint64(key)<<32 | uint64(n))
	}
	return data
}
