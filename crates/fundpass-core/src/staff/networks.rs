//! Per-branch network allow-lists: a branch may be limited to the networks of its
//! office (or its bank's), so a staff password and second factor are of no use from
//! anywhere else. A branch with no list is not limited.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;

/// The networks each listed branch's staff may use the console from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BranchNetworks(BTreeMap<String, Vec<IpNet>>);

/// A network that is not written as an address with a prefix length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("branch {branch}: {network:?} is not a network like 10.1.0.0/16 or 2001:db8::/32")]
pub struct NetworkError {
    pub branch: String,
    pub network: String,
}

impl BranchNetworks {
    /// Parses `branch id → ["10.1.0.0/16", …]`.
    pub fn parse(lists: &BTreeMap<String, Vec<String>>) -> Result<Self, NetworkError> {
        let mut out = BTreeMap::new();
        for (branch, networks) in lists {
            let parsed = networks
                .iter()
                .map(|n| {
                    n.trim().parse::<IpNet>().map_err(|_| NetworkError {
                        branch: branch.clone(),
                        network: n.clone(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            out.insert(branch.clone(), parsed);
        }
        Ok(Self(out))
    }

    /// Whether staff of `branch` may use the console from `ip` (the client address
    /// as the server sees it; `None` when unknown, which a listed branch refuses).
    pub fn allows(&self, branch: &str, ip: Option<&str>) -> bool {
        let Some(networks) = self.0.get(branch) else {
            return true;
        };
        let Some(ip) = ip.and_then(|ip| ip.parse::<IpAddr>().ok()) else {
            return false;
        };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        networks.iter().any(|n| n.contains(&ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(b, n)| ((*b).to_owned(), n.iter().map(|s| (*s).to_owned()).collect()))
            .collect()
    }

    #[test]
    fn a_listed_branch_is_held_to_its_networks_and_others_are_free() {
        let n = BranchNetworks::parse(&lists(&[("BJ-DC-01", &["10.1.0.0/16", "2001:db8::/32"])]))
            .unwrap();
        assert!(n.allows("BJ-DC-01", Some("10.1.2.3")));
        assert!(n.allows("BJ-DC-01", Some("::ffff:10.1.2.3")), "IPv4-mapped");
        assert!(n.allows("BJ-DC-01", Some("2001:db8::7")));
        assert!(!n.allows("BJ-DC-01", Some("10.2.0.1")));
        assert!(!n.allows("BJ-DC-01", None), "an unknown address is refused");
        assert!(!n.allows("BJ-DC-01", Some("not-an-ip")));
        assert!(
            n.allows("SH-PD-02", Some("203.0.113.9")),
            "no list, no limit"
        );
    }

    #[test]
    fn a_malformed_network_is_refused_by_name() {
        let e = BranchNetworks::parse(&lists(&[("BJ", &["10.1.0.0/33"])])).unwrap_err();
        assert_eq!(e.branch, "BJ");
        assert!(BranchNetworks::parse(&lists(&[("BJ", &["10.1.0.0"])])).is_err());
    }
}
