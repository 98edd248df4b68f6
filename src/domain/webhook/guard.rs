//! Where webhooks may go. In production an endpoint may not reach this machine or a private
//! network: every address its host resolves to must be public (not loopback, private,
//! link-local, unspecified, multicast, broadcast or carrier-grade NAT). The check runs when the
//! endpoint is created and again before each attempt, and the production HTTP client resolves
//! through [`PublicOnly`], so a name that re-resolves to a private address between the check
//! and the connection (DNS rebinding) is refused too. Development and test reach anything.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Why a destination was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The URL has no host.
    #[error("the URL has no host")]
    NoHost,
    /// The host does not resolve.
    #[error("the host does not resolve")]
    Unresolvable,
    /// The host is, or resolves to, an address webhooks may not reach.
    #[error(
        "the host resolves to {0}, which webhooks may not reach (loopback, private, link-local, \
         unspecified and multicast addresses are refused)"
    )]
    NotPublic(IpAddr),
}

/// Whether webhooks may reach `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| nat64(v6)) {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

/// Whether an IPv4 address is public.
fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, _, _] = ip.octets();
    // 0.0.0.0/8 ("this network") and 100.64.0.0/10 (carrier-grade NAT, shared address space).
    let this_network = a == 0;
    let shared = a == 100 && (b & 0xc0) == 64;
    // 192.0.0.0/24 (protocol assignments), 198.18.0.0/15 (benchmarking), 240.0.0.0/4 (reserved).
    let [_, _, c, _] = ip.octets();
    let special = (a == 192 && b == 0 && c == 0) || (a == 198 && (b & 0xfe) == 18) || a >= 240;
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_multicast()
        || ip.is_broadcast()
        || this_network
        || shared
        || special)
}

/// Whether an IPv6 address is public.
fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    // fec0::/10 (deprecated site-local) and 2002::/16 (6to4: it embeds an IPv4 address).
    let site_local = (first & 0xffc0) == 0xfec0;
    let six_to_four = first == 0x2002;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || site_local
        || six_to_four)
}

/// The IPv4 address a NAT64 address (`64:ff9b::/96`) stands for.
fn nat64(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    if s[..6] != [0x64, 0xff9b, 0, 0, 0, 0] {
        return None;
    }
    let [hi, lo] = [s[6].to_be_bytes(), s[7].to_be_bytes()];
    Some(Ipv4Addr::new(hi[0], hi[1], lo[0], lo[1]))
}

/// Resolves the host of `url` (an IP literal stands for itself) and checks that every address
/// it has is public; returns them.
pub async fn check_destination(url: &reqwest::Url) -> Result<Vec<SocketAddr>, Refused> {
    let host = url.host_str().filter(|h| !h.is_empty()).ok_or(Refused::NoHost)?;
    let port = url.port_or_known_default().unwrap_or(443);
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let addresses: Vec<SocketAddr> = match literal.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port)).await.map_err(|_| Refused::Unresolvable)?.collect(),
    };
    if addresses.is_empty() {
        return Err(Refused::Unresolvable);
    }
    if let Some(refused) = addresses.iter().map(SocketAddr::ip).find(|ip| !is_public(*ip)) {
        return Err(Refused::NotPublic(refused));
    }
    Ok(addresses)
}

/// A resolver for the production HTTP client that hands out a name's addresses only when all
/// of them are public.
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(resolve_public(name.as_str().to_owned()))
    }
}

/// The addresses of `host` when every one is public.
async fn resolve_public(host: String) -> Result<reqwest::dns::Addrs, Box<dyn std::error::Error + Send + Sync>> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
    if let Some(refused) = addresses.iter().map(SocketAddr::ip).find(|ip| !is_public(*ip)) {
        return Err(Box::new(Refused::NotPublic(refused)));
    }
    if addresses.is_empty() {
        return Err(Box::new(Refused::Unresolvable));
    }
    Ok(Box::new(addresses.into_iter()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_private_link_local_unspecified_and_multicast_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "100.64.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(refused.parse().unwrap()), "{refused}");
        }
        for allowed in ["93.184.216.34", "1.1.1.1", "100.128.0.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"] {
            assert!(is_public(allowed.parse().unwrap()), "{allowed}");
        }
    }

    #[tokio::test]
    async fn destinations_on_this_machine_or_a_private_network_are_refused() {
        for (url, refused) in [
            ("http://127.0.0.1:8080/hook", "127.0.0.1"),
            ("https://[::1]/hook", "::1"),
            ("http://10.0.0.7/hook", "10.0.0.7"),
            ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ] {
            let url = reqwest::Url::parse(url).unwrap();
            assert_eq!(check_destination(&url).await, Err(Refused::NotPublic(refused.parse().unwrap())), "{url}");
        }
        let public = reqwest::Url::parse("https://1.1.1.1/hook").unwrap();
        let one: IpAddr = "1.1.1.1".parse().unwrap();
        assert_eq!(check_destination(&public).await, Ok(vec![SocketAddr::new(one, 443)]));
    }
}
