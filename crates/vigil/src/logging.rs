//! Diagnostics on stderr through `tracing`, filtered by `RUST_LOG`, as text
//! for people or JSON lines for log pipelines (`VIGIL_LOG_FORMAT=json`).

use tracing_subscriber::EnvFilter;

/// Dependencies that log per item of hostile input (lopdf: one warning per
/// undecodable text operator, millions from one small PDF), held to errors
/// unless `RUST_LOG` names them; Vigil logs one summary per document.
const NOISY: [&str; 1] = ["lopdf"];

/// Installs the subscriber: warnings and errors by default, `RUST_LOG`
/// (e.g. `RUST_LOG=vigil=debug`, or `vigil_server=debug` for one line per
/// HTTP request) for more.
pub(crate) fn init() {
    let user = std::env::var(crate::env_vars::RUST_LOG).ok();
    let filter = EnvFilter::try_new(directives(user.as_deref()))
        .unwrap_or_else(|_| EnvFilter::new(directives(None)));
    let json = std::env::var(crate::env_vars::VIGIL_LOG_FORMAT)
        .is_ok_and(|format| format.eq_ignore_ascii_case("json"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (only possible in tests) is harmless.
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// The filter: the user's `RUST_LOG` (else `warn`), then `target=error` for
/// each noisy dependency the user did not name.
fn directives(user: Option<&str>) -> String {
    let base = user
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .unwrap_or("warn");
    let named: Vec<&str> = base
        .split(',')
        .filter_map(|directive| {
            let target = directive.split(['=', '[']).next()?.trim();
            (!target.is_empty()).then_some(target)
        })
        .collect();
    let mut filter = base.to_owned();
    for noisy in NOISY {
        if !named
            .iter()
            .any(|t| *t == noisy || t.starts_with(&format!("{noisy}::")))
        {
            filter.push_str(&format!(",{noisy}=error"));
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::directives;

    #[test]
    fn noisy_dependencies_are_held_to_errors_unless_named() {
        assert_eq!(directives(None), "warn,lopdf=error");
        assert_eq!(directives(Some(" ")), "warn,lopdf=error");
        assert_eq!(directives(Some("debug")), "debug,lopdf=error");
        assert_eq!(
            directives(Some("vigil=debug,info")),
            "vigil=debug,info,lopdf=error"
        );
        assert_eq!(directives(Some("lopdf=warn")), "lopdf=warn");
        assert_eq!(
            directives(Some("warn,lopdf::parser=trace")),
            "warn,lopdf::parser=trace"
        );
        assert_eq!(directives(Some("lopdfx=info")), "lopdfx=info,lopdf=error");
    }
}
