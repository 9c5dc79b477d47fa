//! `schema`: print the JSON Schema of a document kind.

use std::process::ExitCode;

use super::CommandResult;

pub(super) fn execute(kind: crate::schema::Kind) -> CommandResult {
    print!("{}", crate::schema::schema(kind));
    Ok(ExitCode::SUCCESS)
}
