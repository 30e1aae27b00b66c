package website

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBlocked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr    string
		blocked bool
	}{
		{"127.0.0.1", true},
		{"::ffff:127.0.0.1", true},
		{"::127.0.0.1", true}, // IPv4-compatible
		{"::1", true},
		{"::", true},
		{"fe80::1", true},
		{"fe80::1%eth0", true},
		{"fd00::1", true},
		{"fd00:ec2::254", true},
		{"100.64.0.1", true},
		{"100.100.100.200", true},
		{"0.0.0.0", true},
		{"10.0.0.1", true},
		{"192.168.1.1", true},
		{"172.16.0.1", true},
		{"172.31.255.255", true},
		{"169.254.169.254", true},
		{"::ffff:169.254.169.254", true},
		{"224.0.0.1", true},
		{"255.255.255.255", true},
		{"ff02::1", true},
		{"64:ff9b::10.0.0.1", true}, // NAT64 to a private address
		{"2002:c0a8:0101::1", true}, // 6to4 of 192.168.1.1
		{"93.184.215.14", false},
		{"2606:4700::1", false},
		{"::ffff:93.184.215.14", false},
		{"64:ff9b::93.184.215.14", false},
		{"172.32.0.1", false},
		{"100.128.0.1", false},
		{"8.8.8.8", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.blocked, blocked(netip.MustParseAddr(tt.addr)))
		})
	}
	require.True(t, blocked(netip.Addr{}), "the zero address")
}

func TestRefusesHonoursAllow(t *testing.T) {
	t.Parallel()
	a := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("fd12::/16")}}, nil, nil)
	tests := []struct {
		addr    string
		refused bool
	}{
		{"127.0.0.1", false},
		{"127.8.9.10", false},
		{"::ffff:127.0.0.1", false},
		{"fd12::1", false},
		{"::1", true},
		{"10.0.0.1", true},
		{"fd00::1", true},
		{"93.184.215.14", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.refused, a.refuses(netip.MustParseAddr(tt.addr)))
		})
	}
}

func TestReviewedPrefixesAreBlocked(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"::ffff:0:127.0.0.1", "3fff::1", "5f00::1"} {
		require.True(t, blocked(netip.MustParseAddr(s)), s)
	}
}

func TestOnlyWebPortsOutsideTheAllowList(t *testing.T) {
	t.Parallel()
	a := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}, nil, nil)
	public := netip.MustParseAddr("93.184.215.14")
	require.False(t, a.refusesPort(public, 80))
	require.False(t, a.refusesPort(public, 443))
	require.True(t, a.refusesPort(public, 22))
	require.True(t, a.refusesPort(public, 8080))
	require.False(t, a.refusesPort(netip.MustParseAddr("10.1.2.3"), 8080), "an allowed range may use any port")
}
