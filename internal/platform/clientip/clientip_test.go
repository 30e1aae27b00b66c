package clientip_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/inkgraph/inkgraph/internal/platform/clientip"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8:ffff::/48")}
	for _, tc := range []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"peer without proxies", "192.0.2.7:5555", nil, nil, "192.0.2.7"},
		{"untrusted peer's header is ignored", "192.0.2.7:5555", []string{"198.51.100.1"}, proxies, "192.0.2.7"},
		{"header ignored when nothing is trusted", "10.0.0.1:5555", []string{"198.51.100.1"}, nil, "10.0.0.1"},
		{"trusted peer names the client", "10.0.0.1:5555", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"right-most untrusted wins over a forged left", "10.0.0.1:5555", []string{"203.0.113.66, 198.51.100.1"}, proxies, "198.51.100.1"},
		{"trusted hops are skipped", "10.0.0.1:5555", []string{"203.0.113.66, 198.51.100.1, 10.1.2.3"}, proxies, "198.51.100.1"},
		{"several headers are one list", "10.0.0.1:5555", []string{"203.0.113.66", "198.51.100.1", "10.1.2.3"}, proxies, "198.51.100.1"},
		{"all trusted: the left-most", "10.0.0.1:5555", []string{"10.9.9.9, 10.1.2.3"}, proxies, "10.9.9.9"},
		{"trusted peer without header", "10.0.0.1:5555", nil, proxies, "10.0.0.1"},
		{"garbage stops at the last believed hop", "10.0.0.1:5555", []string{"198.51.100.1, unknown, 10.1.2.3"}, proxies, "10.1.2.3"},
		{"ports in the header", "10.0.0.1:5555", []string{"198.51.100.1:4711, [2001:db8::9]:443"}, proxies, "2001:db8::9"},
		{"IPv6 peer", "[2001:db8::1]:5555", nil, proxies, "2001:db8::1"},
		{"IPv6 proxy", "[2001:db8:ffff::1]:5555", []string{"2001:db8::2"}, proxies, "2001:db8::2"},
		{"mapped IPv4 is IPv4", "[::ffff:10.0.0.1]:5555", []string{"198.51.100.1"}, proxies, "198.51.100.1"},
		{"zone dropped", "[fe80::1%eth0]:5555", nil, nil, "fe80::1"},
		{"not an IP peer", "@", []string{"198.51.100.1"}, proxies, "invalid IP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, clientip.Resolve(tc.remote, tc.xff, tc.trusted).String())
		})
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	require.Equal(t, "192.0.2.7", clientip.Key(netip.MustParseAddr("192.0.2.7")))
	require.Equal(t, "2001:db8:1:2::/64", clientip.Key(netip.MustParseAddr("2001:db8:1:2:aaaa::1")))
	require.Equal(t, clientip.Key(netip.MustParseAddr("2001:db8:1:2::1")), clientip.Key(netip.MustParseAddr("2001:db8:1:2:ffff::9")),
		"one /64 is one client")
	require.Equal(t, "unknown", clientip.Key(netip.Addr{}))
}

func TestContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, ok := clientip.From(ctx)
	require.False(t, ok)
	_, ok = clientip.From(clientip.With(ctx, netip.Addr{}))
	require.False(t, ok, "an unknown address is no address")
	addr, ok := clientip.From(clientip.With(ctx, netip.MustParseAddr("192.0.2.7")))
	require.True(t, ok)
	require.Equal(t, "192.0.2.7", addr.String())
}

func TestLoopbackHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "127.0.0.1": true, "127.8.9.10:443": true,
		"[::1]:8080": true, "::1": true, "[::1]": true,
		"api.example.com": false, "10.0.0.1:80": false, "localhost.example.com": false, "[2001:db8::1]:80": false, "": false,
	} {
		require.Equal(t, want, clientip.LoopbackHost(host), host)
	}
}
