package api

import "time"

// revokeDrain is how long a Server-Sent Events stream of a revoked session still lets
// the messages under way go out (the event saying its session ended) before it ends,
// as the WebSocket transport does before it closes a revoked socket.
const revokeDrain = 250 * time.Millisecond
