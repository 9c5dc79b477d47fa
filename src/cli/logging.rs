//! Logging to stderr for the commands: quiet one-shot commands, the daemon's configured
//! level and format.

use std::io::IsTerminal;

use crate::config::LogFormat;

/// One-shot commands: our warnings only by default (a missing credential makes the
/// SDK's provider chain log a multi-line debug dump as a WARN before our own clear
/// error); the libraries' warnings from -v on.
pub(super) fn one_shot(verbose: u8) {
    let (others, ours) = match verbose {
        0 => ("error", "warn"),
        1 => ("warn", "info"),
        _ => ("warn", "debug"),
    };
    init(others, ours, LogFormat::Text);
}

/// The daemon: our logs at `level` (RUST_LOG overrides), as text or JSON lines.
pub(super) fn daemon(level: &str, format: LogFormat) {
    init("warn", level, format)
}

fn init(others: &str, ours: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{others},apigw_reconciler={ours}"))
    });
    // Colour codes only for a person at a terminal, never into files or collectors.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
