package api

import (
	"net/http"

	"github.com/inkgraph/inkgraph/internal/api/wstransport"
	"github.com/inkgraph/inkgraph/internal/platform/clientip"
	"github.com/inkgraph/inkgraph/internal/platform/config"
)

// socketLimits bound WebSocket handshakes and open sockets, per client address and in
// all, as configured.
func socketLimits(cfg config.Config) wstransport.Limits {
	return wstransport.Limits{
		UpgradesPerMinute: cfg.WSUpgradesPerMinute,
		MaxConnsPerAddr:   cfg.WSMaxConnsPerIP,
		MaxConns:          cfg.WSMaxConns,
	}
}

// socketClient is the key a handshake's client address is counted under: the one the
// per-address operation budgets use (behind trusted proxies, the forwarded address;
// an IPv6 client's /64).
func socketClient(r *http.Request) string {
	addr, _ := clientip.From(r.Context())
	return clientip.Key(addr)
}
