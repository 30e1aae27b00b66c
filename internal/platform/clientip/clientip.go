// Package clientip owns the client's address as the server sees it: which address a
// request came from (the connection's peer, or what trusted reverse proxies say in
// X-Forwarded-For), carried in the request's context, and the key under which budgets
// per address are counted. It works on plain strings so that areas reading the address
// (auth's sign-in limits) need not import net/http.
package clientip

import (
	"context"
	"net"
	"net/netip"
	"strings"
)

type addrKey struct{}

// With returns ctx carrying the client's address.
func With(ctx context.Context, addr netip.Addr) context.Context {
	return context.WithValue(ctx, addrKey{}, addr)
}

// From returns the client's address, and false when none is known (a request that did
// not come through the server's middleware, or a peer address that is not IP).
func From(ctx context.Context) (netip.Addr, bool) {
	addr, ok := ctx.Value(addrKey{}).(netip.Addr)
	return addr, ok && addr.IsValid()
}

// Resolve returns the client's address for a request whose connection came from
// remoteAddr (http.Request.RemoteAddr, "host:port") carrying the X-Forwarded-For header
// values forwardedFor. The peer is the client unless it is a trusted proxy; then the
// client is the right-most forwarded address that is not a trusted proxy itself. Only
// the right end of the header can be believed: each trusted proxy appends the address
// it saw, while anything to the left of that may be the client's own invention. An
// entry that is not an address ends the walk at the last address believed.
// It returns the zero Addr when remoteAddr is not an IP address.
func Resolve(remoteAddr string, forwardedFor []string, trusted []netip.Prefix) netip.Addr {
	client := parse(remoteAddr)
	if !client.IsValid() || !isTrusted(client, trusted) {
		return client
	}
	// Several headers count as one list, in order (RFC 9110 section 5.3).
	var hops []string
	for _, v := range forwardedFor {
		hops = append(hops, strings.Split(v, ",")...)
	}
	for i := len(hops) - 1; i >= 0; i-- {
		hop := parse(strings.TrimSpace(hops[i]))
		if !hop.IsValid() {
			return client
		}
		client = hop
		if !isTrusted(hop, trusted) {
			return client
		}
	}
	// Every hop was a trusted proxy: the left-most one is as far as anyone can tell.
	return client
}

// Key is the budget key of addr: the address itself for IPv4, its /64 network for
// IPv6, since one subscriber is routinely handed a whole /64 and could otherwise step
// through 2^64 budgets. The zero Addr is "unknown": such clients share one budget.
func Key(addr netip.Addr) string {
	switch {
	case !addr.IsValid():
		return "unknown"
	case addr.Is6():
		return netip.PrefixFrom(addr, 64).Masked().String()
	default:
		return addr.String()
	}
}

// parse reads an address with or without a port ("192.0.2.1", "192.0.2.1:8080",
// "[2001:db8::1]:443", "2001:db8::1"). IPv4-mapped IPv6 addresses become IPv4 and zones
// are dropped, so one client has one spelling.
func parse(s string) netip.Addr {
	addr, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}
		}
		addr = ap.Addr()
	}
	return addr.Unmap().WithZone("")
}

func isTrusted(addr netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Network is addr masked to the network it is shown as, so that a user can tell their
// devices apart without anyone keeping whole addresses: IPv4 /24, IPv6 /48. "" for
// the zero Addr.
func Network(addr netip.Addr) string {
	switch {
	case !addr.IsValid():
		return ""
	case addr.Is6():
		return netip.PrefixFrom(addr, 48).Masked().String()
	default:
		return netip.PrefixFrom(addr, 24).Masked().String()
	}
}

// LoopbackHost reports whether host (a Host header or a URL's host, with or without a
// port, an IPv6 address in brackets or not) names this machine: localhost or a
// loopback address.
func LoopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.IsLoopback()
}
