//! The one place a URL that may carry a password (database, Redis) is made fit for a log line
//! or a message: `postgres://user:***@host/db`, `redis://:***@host`, `?password=***`.
//! It must never return any part of a password; it does not parse anything for use.

/// Query parameters whose value is a secret.
const SECRET_PARAMS: [&str; 3] = ["password", "sslpassword", "pass"];

/// `url` with the password of its authority and of its query replaced by `***`. A password
/// with an unescaped `/` or `@` in it is still hidden: the user part runs to the last `@` before
/// any `?`.
pub(crate) fn url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let query_at = rest.find('?').unwrap_or(rest.len());
    let (userinfo, after) = match rest[..query_at].rfind('@') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => ("", rest),
    };
    let userinfo = match userinfo.split_once(':') {
        Some((user, _)) => format!("{user}:***"),
        None => userinfo.to_owned(),
    };
    format!("{scheme}://{userinfo}{}", query(after))
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
            ("postgres://u:s3c/ret@h/db", "postgres://u:***@h/db"),
            ("postgres://u:s3c:ret@h", "postgres://u:***@h"),
            ("postgres://:s3cret@h", "postgres://:***@h"),
            (
                "redis://default:s3cret@[::1]:6379",
                "redis://default:***@[::1]:6379",
            ),
            (
                "postgres://u:s3cret@h/db?sslpassword=s3cret&application_name=a@b",
                "postgres://u:***@h/db?sslpassword=***&application_name=a@b",
            ),
            ("postgres://h/db@x", "postgres://h/db@x"),
        ] {
            assert_eq!(url(raw), shown);
            assert!(!url(raw).contains("s3cret"));
        }
    }
}
