//! URL rules every floor shares: which base URLs a key may be sent to, and which links the app
//! may open in a browser.

use crate::{Error, Result};

/// Base-URL overrides must be http(s) URLs without credentials; plain http is allowed only for
/// loopback hosts (self-hosted gateways and tests), so a key is never sent in clear text.
pub fn validate_base_url(raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::InvalidInput(format!("`{raw}` is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::InvalidInput(format!(
                "`{raw}` uses plain http: keys may only be sent over https (plain http is allowed for localhost)"
            )))
        }
        s => return Err(Error::InvalidInput(format!("`{raw}`: unsupported URL scheme `{s}`"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput(
            "put credentials in the key, not in the base URL".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        // A query string in a stored base URL is where keys end up (`?key=…`): keys go in the
        // keychain, and the base URL is only scheme, host and path.
        return Err(Error::InvalidInput(format!(
            "`{}` has a query string or fragment: a base URL is scheme, host and path only (put keys in the key field)",
            url.origin().ascii_serialization()
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether `url` points at this machine: decided from the parsed host (an IP address in
/// 127.0.0.0/8 or ::1, or the name `localhost`), never from how the host name starts, so
/// `http://127.attacker.example` is not loopback.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// A URL the app may open in the browser (a billing page, a confirmed payment link): https
/// only, no credentials, with a host. Returns it normalised.
pub fn checked_https_url(raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::InvalidInput(format!("`{raw}` is not a valid URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(Error::InvalidInput(format!(
            "only https pages are opened, not `{}` links",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() || url.host_str().is_none() {
        return Err(Error::InvalidInput(
            "that link carries credentials or has no host".into(),
        ));
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case("http://127.attacker.example", false)]
    #[case("http://127.0.0.1.nip.io", false)]
    #[case("http://localhost.attacker.example", false)]
    #[case("http://127.0.0.1@evil.example", false)]
    #[case("http://10.0.0.1", false)]
    #[case("http://127.0.0.2:1", true)]
    #[case("http://[::1]:8080", true)]
    #[case("http://LOCALHOST:9", true)]
    #[case("http://127.1", true)]
    fn plain_http_only_to_this_machine_decided_from_the_parsed_host(
        #[case] url: &str,
        #[case] allowed: bool,
    ) {
        assert_eq!(
            validate_base_url(url).is_ok(),
            allowed,
            "{url}: a look-alike host must not get the key in clear text"
        );
    }

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            validate_base_url("https://gw.example.com/v1/").unwrap(),
            "https://gw.example.com/v1"
        );
        assert!(
            validate_base_url("http://127.0.0.1:8080").is_ok(),
            "loopback http is fine"
        );
        assert!(validate_base_url("http://localhost:4000").is_ok());
        assert!(
            validate_base_url("http://gw.example.com").is_err(),
            "no clear-text keys"
        );
        assert!(validate_base_url("https://user:pw@gw.example.com").is_err());
        assert!(validate_base_url("ftp://x").is_err());
        assert!(
            validate_base_url("https://gw.example.com/v1?key=sk-1").is_err(),
            "a key in a query string would be stored in the database"
        );
    }

    #[test]
    fn only_https_links_are_opened() {
        assert!(checked_https_url("https://openrouter.ai/settings/credits").is_ok());
        for bad in [
            "http://openrouter.ai",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://u:p@x.com",
            "nope",
        ] {
            assert!(checked_https_url(bad).is_err(), "{bad} must be refused");
        }
    }
}
