package handlers

import (
	"fmt"
	"net"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Reverse proxies. X-Forwarded-Host, -Proto and -For are honoured only when
// the peer is one of TRACPRO_TRUSTED_PROXIES (Fiber's trusted-proxy check,
// on with an empty list by default): from anyone else they are the client's
// own words, and would pick the org, the passkeys' relying party, the cookie's
// Secure flag and the address sign-in throttling counts under.

// ParseTrustedProxies reads a list of IP addresses and CIDR ranges separated
// by commas or spaces ("" = none) and returns it normalised; an entry that is
// neither is an error naming it.
func ParseTrustedProxies(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if _, n, err := net.ParseCIDR(f); err == nil {
			out = append(out, n.String())
			continue
		}
		ip := net.ParseIP(f)
		if ip == nil {
			return nil, fmt.Errorf("%q is not an IP address or a CIDR range such as 10.0.0.0/8", f)
		}
		out = append(out, ip.String())
	}
	return out, nil
}

// trustedNets turns ParseTrustedProxies' entries into networks (an address
// is a network of one).
func trustedNets(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, s := range list {
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				return nil, fmt.Errorf("trusted proxy %q is not an IP address", s)
			}
			bits := 8 * net.IPv6len
			if ip.To4() != nil {
				ip, bits = ip.To4(), 8*net.IPv4len
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// isTrusted reports whether ip is one of the trusted proxies.
func (h *Handlers) isTrusted(ip net.IP) bool {
	for _, n := range h.trusted {
		if n.Contains(ip) {
			return true
		}
	}
	return false
}

// clientIP is the address sign-in throttling counts under: the peer, or,
// when the peer is a trusted proxy, the last address of X-Forwarded-For that
// is not a trusted proxy itself. Proxies append the address they saw, so
// what a client wrote into the header comes before it and is never taken
// (Fiber's ProxyHeader would take the first address: the client's choice
// behind a proxy that appends).
func (h *Handlers) clientIP(c *fiber.Ctx) string {
	peer := c.IP()
	if !c.IsProxyTrusted() || len(h.trusted) == 0 {
		return peer
	}
	hops := strings.Split(c.Get(fiber.HeaderXForwardedFor), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		ip := net.ParseIP(strings.TrimSpace(hops[i]))
		if ip == nil {
			break
		}
		if !h.isTrusted(ip) {
			return ip.String()
		}
	}
	return peer
}
