package testkit

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAddr is the local Redis the tests use; each test keeps its keys under a
// prefix of its own.
const RedisAddr = "127.0.0.1:6379"

// Redis connects to the local Redis, closed when the test ends, or skips the test
// (fails it under REQUIRE_SERVICES=1) when Redis does not answer.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: RedisAddr})
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		Unavailable(t, "Redis", err)
	}
	return client
}
