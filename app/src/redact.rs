//! The one place a URL that may carry a password (database, Redis) is made fit for a log line
//! or a message: `postgres://user:***@host/db`, `redis://:***@host`, `?password=***`.
//! It must never return any part of a password; it does not parse anything for use.

/// Query parameters whose value is a secret.
const SECRET_PARAMS: [&str; 3] = ["password", "sslpassword", "pass"];

/// `url` with the password of its authority and of its query replaced by `***`.
pub(crate) fn url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _)) => format!("{user}:***{}", &authority[at..]),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    format!("{scheme}://{authority}{}", query(tail))
}

/// The path and query with every secret parameter's value replaced.
fn query(tail: &str) -> String {
    let Some((path, query)) = tail.split_once('?') else {
        return tail.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|p| match p.split_once('=') {
            Some((k, _)) if SECRET_PARAMS.contains(&k.to_ascii_lowercase().as_str()) => {
                format!("{k}=***")
            }
            _ => p.to_owned(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

#[cfg(test)]
mod tests {
    use super::url;

    #[test]
    fn passwords_never_survive() {
        for (raw, shown) in [
            (
                "postgres://u:s3cret@h:5432/db",
                "postgres://u:***@h:5432/db",
            ),
            ("postgres://u:p@ss@h/db", "postgres://u:***@h/db"),
            ("postgres://u@h/db", "postgres://u@h/db"),
            ("redis://:s3cret@h:6379/0", "redis://:***@h:6379/0"),
            ("rediss://u:s3cret@h", "rediss://u:***@h"),
            (
                "postgres://h/db?user=u&password=s3cret&x=1",
                "postgres://h/db?user=u&password=***&x=1",
            ),
            (
                "postgres://h/db?PassWord=s3cret",
                "postgres://h/db?PassWord=***",
            ),
            ("not a url", "not a url"),
        ] {
            assert_eq!(url(raw), shown);
            assert!(!url(raw).contains("s3cret"));
        }
    }
}
