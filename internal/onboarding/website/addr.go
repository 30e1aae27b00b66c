package website

import (
	"fmt"
	"net/netip"
)

// blockedPrefixes are the ranges a user-supplied URL must never reach: everything
// that is not a public unicast address on the internet. The table is read-only.
var blockedPrefixes = []netip.Prefix{
	// IPv4
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"; 0.0.0.0 reaches the local host on Linux
	netip.MustParsePrefix("10.0.0.0/8"),      // private
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT, and some clouds' metadata (100.100.100.200)
	netip.MustParsePrefix("127.0.0.0/8"),     // loopback
	netip.MustParsePrefix("169.254.0.0/16"),  // link-local, holds the cloud metadata address 169.254.169.254
	netip.MustParsePrefix("172.16.0.0/12"),   // private
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("192.88.99.0/24"),  // deprecated 6to4 relay anycast
	netip.MustParsePrefix("192.168.0.0/16"),  // private
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("224.0.0.0/4"),     // multicast
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast 255.255.255.255

	// IPv6
	netip.MustParsePrefix("::/96"),           // unspecified, loopback and the deprecated IPv4-compatible form
	netip.MustParsePrefix("::ffff:0:0:0/96"), // IPv4-translated (SIIT): a translator would forward it anywhere
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("100::/64"),        // discard-only
	netip.MustParsePrefix("2001::/32"),       // Teredo: hides an IPv4 address we cannot check
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("3fff::/20"),       // documentation
	netip.MustParsePrefix("5f00::/16"),       // segment routing (SRv6) identifiers
	netip.MustParsePrefix("fc00::/7"),        // unique-local, holds AWS's metadata address fd00:ec2::254
	netip.MustParsePrefix("fe80::/10"),       // link-local
	netip.MustParsePrefix("fec0::/10"),       // deprecated site-local
	netip.MustParsePrefix("ff00::/8"),        // multicast
}

// Translation prefixes that carry an IPv4 address a gateway will forward to: they are
// as safe as the address they embed.
var (
	nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour   = netip.MustParsePrefix("2002::/16")
)

// blocked reports whether addr is not a public address. Zones are dropped and
// IPv4-mapped addresses unmapped first, since netip.Prefix.Contains would otherwise
// let ::ffff:127.0.0.1 and fe80::1%eth0 through.
func blocked(addr netip.Addr) bool {
	if !addr.IsValid() {
		return true
	}
	addr = addr.WithZone("").Unmap()
	if v4, ok := embeddedIPv4(addr); ok && blocked(v4) {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// embeddedIPv4 returns the IPv4 address a NAT64 or 6to4 address leads to.
func embeddedIPv4(addr netip.Addr) (netip.Addr, bool) {
	b := addr.As16()
	switch {
	case nat64Prefix.Contains(addr):
		return netip.AddrFrom4([4]byte(b[12:16])), true
	case sixToFour.Contains(addr):
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// refuses reports whether the analyzer must not connect to addr: a blocked address is
// still fine when the operator allowed its range (tests, intranet deployments).
func (a *Analyzer) refuses(addr netip.Addr) bool {
	if !blocked(addr) {
		return false
	}
	plain := addr.WithZone("")
	for _, p := range a.cfg.Allow {
		if p.Contains(plain) || p.Contains(plain.Unmap()) {
			return false
		}
	}
	return true
}

// webPorts are the ports a public site may be fetched on. Other ports on public
// addresses reach services that are not websites (mail, databases, admin panels);
// an allowed range (Allow) may use any port.
func webPort(port uint16) bool { return port == 80 || port == 443 }

// refusesPort reports whether the analyzer must not connect to port on addr.
func (a *Analyzer) refusesPort(addr netip.Addr, port uint16) bool {
	if webPort(port) {
		return false
	}
	plain := addr.WithZone("")
	for _, p := range a.cfg.Allow {
		if p.Contains(plain) || p.Contains(plain.Unmap()) {
			return false
		}
	}
	return true
}

// portError is a refused connection to a port other than 80 and 443.
type portError struct {
	host string
	port uint16
}

func (e *portError) Error() string {
	return fmt.Sprintf("website: refusing to connect to %s port %d", e.host, e.port)
}

func (e *portError) message() string {
	return fmt.Sprintf("only websites on the standard ports 80 and 443 can be analyzed, not port %d", e.port)
}

// privateAddressError is a refused connection; host is the name being dialled, which
// may be a redirect's rather than the user's.
type privateAddressError struct {
	host string
	addr netip.Addr
}

func (e *privateAddressError) Error() string {
	return fmt.Sprintf("website: refusing to connect to %s (%s)", e.host, e.addr)
}

func (e *privateAddressError) message() string {
	addr := e.addr.WithZone("").Unmap().String()
	if e.host == "" || e.host == addr || e.host == e.addr.String() {
		return fmt.Sprintf("the address %s is private: only public websites can be analyzed", addr)
	}
	return fmt.Sprintf("the address of %s (%s) is private: only public websites can be analyzed", e.host, addr)
}
