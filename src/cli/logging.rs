//! Logging to stderr for the commands: quiet one-shot commands, the daemon's configured
//! level and format.
//!
//! Text logs are read line by line (by people, `grep`, log shippers), and values from
//! specs and the live API reach them: a template in a drift diff, a value quoted in an
//! error message. So one event is one line, always: [`OneLine`] escapes every control
//! character of a formatted event but its final newline (`\n`, `\r`, `\t`, `\x1b`,
//! `\u{2028}`, see [`escape::breaks_lines`]), and no value can start a forged record.
//! This works on the formatter's output because tracing-subscriber's fmt layer formats
//! a whole event into one buffer and hands it to the writer in one `write_all`
//! (`fmt_layer.rs`, `on_event`, tracing-subscriber 0.3.23), so each write is exactly
//! one event, whatever the format or the fields. JSON logs need none of this: serde
//! escapes control characters inside JSON strings, so each event is one line already.

use std::io::{self, IsTerminal, Write};

use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;
use crate::render::escape;

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
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = match format {
        LogFormat::Text => builder
            .with_writer(OneLineStderr { keep_colours: ansi })
            .try_init(),
        LogFormat::Json => builder
            .with_writer(std::io::stderr)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}

/// Makes a [`OneLine`] writer over stderr for each event.
struct OneLineStderr {
    keep_colours: bool,
}

impl<'a> MakeWriter<'a> for OneLineStderr {
    type Writer = OneLine<io::Stderr>;

    fn make_writer(&'a self) -> Self::Writer {
        OneLine {
            inner: io::stderr(),
            keep_colours: self.keep_colours,
        }
    }
}

/// A writer that writes each buffer it is given (one formatted event) as one line.
struct OneLine<W> {
    inner: W,
    keep_colours: bool,
}

impl<W: Write> Write for OneLine<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = one_line(&String::from_utf8_lossy(buf), self.keep_colours);
        self.inner.write_all(line.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `event` (one formatted event) on one line: every control character escaped but a
/// final newline. With `keep_colours` (stderr is a terminal), the formatter's colour
/// codes stay: an ESC that starts an SGR sequence (`ESC [ digits;... m`, all the
/// formatter writes) is kept, any other ESC is escaped. An SGR sequence can only
/// change colours, never move the cursor or end a line; tracing-subscriber already
/// shows an ESC inside a field value as `\x1b` (its ANSI sanitisation), so the kept
/// ones are the formatter's own.
fn one_line(event: &str, keep_colours: bool) -> String {
    let (body, newline) = match event.strip_suffix('\n') {
        Some(body) => (body, "\n"),
        None => (event, ""),
    };
    let mut out = String::with_capacity(event.len() + 8);
    let mut rest = body;
    while let Some(c) = rest.chars().next() {
        if c == '\u{1b}'
            && keep_colours
            && let Some(len) = sgr_len(rest)
        {
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        if escape::breaks_lines(c) {
            escape::push_escape(&mut out, c);
        } else {
            out.push(c);
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(newline);
    out
}

/// The length of the SGR sequence (`ESC [ [0-9;]* m`) `text` starts with, if it does.
fn sgr_len(text: &str) -> Option<usize> {
    let params = text.strip_prefix("\u{1b}[")?;
    let digits = params
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b';')
        .count();
    (params.as_bytes().get(digits) == Some(&b'm')).then_some(2 + digits + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_one_line_whatever_its_values_hold() {
        let event = "2026-01-01T00:00:00.000001Z  WARN drift detected: a\n        +x\r\n1999-01-01T00:00:00.000000Z ERROR forged\u{2028}\tend\n";
        let line = one_line(event, false);
        assert_eq!(
            line,
            "2026-01-01T00:00:00.000001Z  WARN drift detected: a\\n        +x\\r\\n1999-01-01T00:00:00.000000Z ERROR forged\\u{2028}\\tend\n"
        );
        assert_eq!(line.lines().count(), 1);
        // No final newline: none added.
        assert_eq!(one_line("a\nb", false), "a\\nb");
        assert_eq!(one_line("a\u{85}b\u{7}\n", false), "a\\u{85}b\\x07\n");
    }

    #[test]
    fn colours_stay_at_a_terminal_and_nothing_else_does() {
        let event = "\u{1b}[2m2026-01-01T00:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[1;31mx\u{1b}[0m: clear\u{1b}[2J\u{1b}]0;title\u{7}\n";
        assert_eq!(
            one_line(event, true),
            "\u{1b}[2m2026-01-01T00:00:00Z\u{1b}[0m \u{1b}[32m INFO\u{1b}[0m \u{1b}[1;31mx\u{1b}[0m: clear\\x1b[2J\\x1b]0;title\\x07\n"
        );
        // Without a terminal not even colour codes pass.
        assert!(!one_line(event, false).contains('\u{1b}'));
    }

    #[test]
    fn each_write_of_the_formatter_becomes_one_line() {
        let mut writer = OneLine {
            inner: Vec::new(),
            keep_colours: false,
        };
        writer.write_all(b"one\ntwo\n").unwrap();
        writer.write_all(b"three\n").unwrap();
        assert_eq!(
            String::from_utf8(writer.inner).unwrap(),
            "one\\ntwo\nthree\n"
        );
    }
}
