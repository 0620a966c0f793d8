//! Where the service sends requests on a tenant's word: webhooks.
//!
//! A webhook URL is the tenant's, so without care it is a way to make the service's
//! network send requests inside the cluster: to loopback, the private ranges, the cloud
//! metadata address (169.254.169.254). So, unless the settings allow it (for tests and
//! private deployments, `webhooks.allow_http` and `webhooks.allow_private_addresses`):
//!
//! - URLs are `https` only;
//! - a host is resolved *when the request is sent* by [`PublicOnly`], the webhook
//!   client's resolver, which keeps only public addresses, so a name that resolves to
//!   a private address (or changes to one after the URL was accepted) is never
//!   connected to; an address written in the URL is checked the same way;
//! - redirects are not followed and no proxy from the environment is used (either
//!   would connect somewhere that was not checked).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::config::WebhookSettings;

/// Whether an address is on the public internet: not loopback, private, link-local
/// (which holds the cloud metadata service), shared (CGNAT), documentation,
/// benchmarking, multicast, reserved or unspecified. IPv4 addresses inside IPv6
/// (mapped, NAT64) are judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            // 64:ff9b::/96, NAT64: the last 32 bits are an IPv4 address.
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., hi, lo] = s;
                return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
            }
            !(v6.is_unspecified()
                || v6.is_loopback()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
                || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
                || (s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard, 100::/64
                || s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible, deprecated
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0 // this network
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 169 && b == 254) // link-local: the cloud metadata service
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // documentation
        || (a == 192 && b == 168)
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // documentation
        || (a == 203 && b == 0 && c == 113) // documentation
        || a >= 224) // multicast, reserved, broadcast
}

/// Checks a webhook URL as far as can be done without resolving it: a valid URL with
/// a host, `https` (unless `allow_http`), and no private address written in it (unless
/// `allow_private_addresses`).
///
/// # Errors
/// What is wrong with it, for the client.
pub fn check_url(url: &str, policy: &WebhookSettings) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a valid URL: {e}"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err("webhooks are sent over https only: use an https:// URL".into());
        }
        _ => return Err("a webhook URL starts with https://".into()),
    }
    let host = match parsed.host() {
        Some(url::Host::Domain(d)) if !d.is_empty() => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !policy.allow_private_addresses && (d == "localhost" || d.ends_with(".localhost")) {
                return Err("a webhook cannot go to localhost".into());
            }
            None
        }
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        _ => return Err("the URL needs a host".into()),
    };
    if let Some(ip) = host
        && !policy.allow_private_addresses
        && !is_public(ip)
    {
        return Err(format!(
            "a webhook cannot go to {ip}, which is not a public address"
        ));
    }
    Ok(parsed)
}

/// The webhook client's resolver: the system's answers, public addresses only (all of
/// them when private ones are allowed).
#[derive(Debug, Clone, Copy)]
pub struct PublicOnly {
    /// Keep private addresses too.
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if kept.is_empty() {
                let all: Vec<String> = found.iter().map(|a| a.ip().to_string()).collect();
                return Err(format!(
                    "{host} resolves to no public address ({}); webhooks go to public \
                     addresses only",
                    all.join(", ")
                )
                .into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client webhooks are sent with: the resolver above, no redirects, no proxy
/// from the environment.
pub fn webhook_client(policy: &WebhookSettings) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .connect_timeout(std::time::Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(PublicOnly {
            allow_private: policy.allow_private_addresses,
        }))
        .build()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "172.32.0.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn webhook_urls_are_https_to_public_hosts() {
        let strict = WebhookSettings::default();
        assert!(check_url("https://hooks.example.com/x", &strict).is_ok());
        for (url, why) in [
            ("http://hooks.example.com/x", "https only"),
            ("https://127.0.0.1/x", "not a public address"),
            ("https://[::1]:8080/x", "not a public address"),
            (
                "https://169.254.169.254/latest/meta-data",
                "not a public address",
            ),
            ("https://localhost/x", "localhost"),
            ("https://api.localhost./x", "localhost"),
            ("ftp://example.com", "starts with https://"),
            ("https://", "not a valid URL"),
        ] {
            let e = check_url(url, &strict).unwrap_err();
            assert!(e.contains(why), "{url}: {e}");
        }
        let open = WebhookSettings {
            allow_http: true,
            allow_private_addresses: true,
        };
        assert!(check_url("http://127.0.0.1:9/x", &open).is_ok());
    }

    #[tokio::test]
    async fn the_resolver_keeps_only_public_addresses() {
        use reqwest::dns::Resolve;
        let strict = PublicOnly {
            allow_private: false,
        };
        let name: reqwest::dns::Name = "localhost".parse().unwrap();
        let e = match strict.resolve(name).await {
            Ok(_) => panic!("localhost resolved"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains("resolves to no public address"), "{e}");
        let open = PublicOnly {
            allow_private: true,
        };
        let addrs: Vec<SocketAddr> = open
            .resolve("localhost".parse().unwrap())
            .await
            .unwrap()
            .collect();
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
