//! `schema`: print the JSON Schema of a document kind.

use std::process::ExitCode;

pub(super) fn execute(kind: crate::schema::Kind) -> ExitCode {
    print!("{}", crate::schema::schema(kind));
    ExitCode::SUCCESS
}
