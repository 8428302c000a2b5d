package auth

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ClientOf describes where r comes from: its address, for throttling and the session record, and
// whether it came over HTTPS, for the Secure flag of cookies.
//
// The address is the host of r.RemoteAddr, unless that is a trusted proxy ([Config.TrustedProxies]):
// then X-Forwarded-For is read from the right, each proxy naming the address it got the request from,
// and the client is the first address that is not itself a trusted proxy. Entries left of it were
// written by the client and are never believed. The request came over HTTPS when it reached this server
// over TLS, or when a trusted proxy's first X-Forwarded-Proto is "https" (the scheme the outermost proxy
// saw). [Config.ClientIP], when set, decides the address instead.
func (s *Service) ClientOf(r *http.Request) Client {
	c := Client{IP: RemoteIP(r), UserAgent: r.UserAgent(), Secure: r.TLS != nil}
	if peer, err := netip.ParseAddr(c.IP); err == nil && s.trusted(peer) {
		c.IP = s.forwardedFor(r, peer).String()
		proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
		if strings.EqualFold(strings.TrimSpace(proto), "https") {
			c.Secure = true
		}
	}
	if s.cfg.ClientIP != nil {
		c.IP = s.cfg.ClientIP(r)
	}
	return c
}

// SecureRequest reports whether cookies set in answer to r must be Secure: the request came over HTTPS
// (see [Service.ClientOf]), or [Config.SecureCookies] says every request does.
func (s *Service) SecureRequest(r *http.Request) bool {
	return s.cfg.SecureCookies || s.ClientOf(r).Secure
}

// trusted reports whether a is the address of a trusted proxy.
func (s *Service) trusted(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor returns the client a trusted proxy at peer reports: walking X-Forwarded-For (all its
// header lines, in order) from the right while the address in hand is a trusted proxy. An entry that is
// no address stops the walk at the proxy that wrote it.
func (s *Service) forwardedFor(r *http.Request, peer netip.Addr) netip.Addr {
	var hops []string
	for _, line := range r.Header.Values("X-Forwarded-For") {
		hops = append(hops, strings.Split(line, ",")...)
	}
	addr := peer
	for i := len(hops) - 1; i >= 0 && s.trusted(addr); i-- {
		a, ok := parseHop(strings.TrimSpace(hops[i]))
		if !ok {
			break
		}
		addr = a
	}
	return addr.Unmap().WithZone("")
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a port ("192.0.2.1:4711",
// "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a, true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr(), true
	}
	return netip.Addr{}, false
}

// RemoteIP is the host part of r.RemoteAddr: the address of whoever opened the connection.
func RemoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// ParseTrustedProxies reads a list of trusted proxies for [Config.TrustedProxies]: CIDR prefixes
// ("10.0.0.0/8") or single addresses ("192.0.2.10", "::1"), separated by commas or spaces.
func ParseTrustedProxies(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("trusted proxy %q: want an IP address or a CIDR prefix such as 10.0.0.0/8", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}
