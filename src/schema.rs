//! JSON Schemas of the document kinds, derived (schemars) from the same serde types the
//! loader reads, so they cannot drift from what `validate` accepts. Editors use them
//! through `# yaml-language-server: $schema=...`; CI can check specs with any JSON
//! Schema tool. The committed copies under `config/schema/` are tested to be current.

use clap::ValueEnum;

use crate::config::ConfigDoc;
use crate::desired::document::{IntegrationResponseDoc, ResponseTestDoc};

/// The document kinds with a schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Kind {
    /// `kind: IntegrationResponse` documents of the desired directory
    Spec,
    /// `kind: ResponseTest` documents of the desired directory
    Test,
    /// The config file
    Config,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Spec, Kind::Test, Kind::Config];

    /// The committed file's name under `config/schema/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Spec => "integration-response.schema.json",
            Kind::Test => "response-test.schema.json",
            Kind::Config => "config.schema.json",
        }
    }
}

/// The schema of `kind`, pretty-printed, ending with a newline.
pub fn schema(kind: Kind) -> String {
    let schema = match kind {
        Kind::Spec => schemars::schema_for!(IntegrationResponseDoc),
        Kind::Test => schemars::schema_for!(ResponseTestDoc),
        Kind::Config => schemars::schema_for!(ConfigDoc),
    };
    serde_json::to_string_pretty(&schema).expect("schemas serialise") + "\n"
}
