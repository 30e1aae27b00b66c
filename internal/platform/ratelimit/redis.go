package ratelimit

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript is GCRA in one script, so the read and the write of a key's TAT are
// atomic however many server instances share the budget. It reads the clock with
// TIME on the Redis server, so the instances' own clocks never matter. All times are
// integer microseconds, which a Lua number (a double) holds exactly.
//
// KEYS[1]: the key, holding its TAT in microseconds since the Unix epoch.
// ARGV[1]: the emission interval T; ARGV[2]: the burst offset T*Burst; ARGV[3]: the
// cost n, admitted whole or not at all (the caller has checked 1 <= n <= Burst).
// Returns {allowed (0/1), remaining, retry after, reset after}.
const gcraScript = `
local interval = tonumber(ARGV[1])
local burst_offset = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local backlog = 0
local tat = tonumber(redis.call("GET", KEYS[1]))
if tat and tat > now then
  backlog = tat - now
end
local next = backlog + interval * cost
local allow_at = next - burst_offset
if allow_at > 0 then
  return {0, math.floor(math.max(burst_offset - backlog, 0) / interval), allow_at, backlog}
end
-- The key expires when its TAT passes: from then on it is the same as a new key.
redis.call("SET", KEYS[1], string.format("%.0f", now + next), "PX", math.ceil(next / 1000))
return {1, math.floor(-allow_at / interval), 0, next}
`

// Redis is a Limiter whose budgets live in Redis, shared by every server instance
// using the same Redis server and prefix. It is safe for concurrent use.
type Redis struct {
	client redis.UniversalClient
	prefix string
	script *redis.Script
}

// NewRedis returns a limiter keeping each key's state in client under prefix+key.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	return &Redis{client: client, prefix: prefix, script: redis.NewScript(gcraScript)}
}

// Allow admits or refuses one request for key under limit.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	return r.AllowN(ctx, key, limit, 1)
}

// AllowN admits n requests for key under limit at once, or none. The emission interval
// is kept to whole microseconds in Redis (at least one), which no API tier comes near.
func (r *Redis) AllowN(ctx context.Context, key string, limit Limit, n int) (Decision, error) {
	g, err := limit.gcra()
	if err != nil {
		return Decision{}, err
	}
	// Checked here, not in the script: a question no state could answer yes to needs
	// no round trip.
	if err := g.checkCost(n); err != nil {
		return Decision{}, err
	}
	interval := max(g.interval.Microseconds(), 1)

	// Run tries EVALSHA first and loads the script only when Redis does not know it.
	res, err := r.script.Run(ctx, r.client, []string{r.prefix + key}, interval, interval*g.burst, n).Int64Slice()
	if err != nil {
		return Decision{}, fmt.Errorf("ratelimit: redis allow %q: %w", key, err)
	}
	if len(res) != 4 {
		return Decision{}, fmt.Errorf("ratelimit: redis allow %q: script returned %d values, want 4", key, len(res))
	}
	return Decision{
		Allowed:    res[0] == 1,
		Remaining:  int(res[1]),
		RetryAfter: time.Duration(res[2]) * time.Microsecond,
		ResetAfter: time.Duration(res[3]) * time.Microsecond,
	}, nil
}
