//! `export`: write the live integration responses of one REST API as specs.

use std::path::Path;
use std::process::ExitCode;

use super::CommandResult;
use super::args::GlobalArgs;
use super::common::{connect, load_config, report_calls};
use crate::live::ApiGateway;

pub(super) async fn execute(
    global: &GlobalArgs,
    rest_api: &str,
    out: Option<&Path>,
) -> CommandResult {
    let mut config = load_config(global)?;
    match config.targets.as_slice() {
        [] => {}
        [one] => config = one.clone(),
        many => {
            return Err(format!(
                "export reads one target's API, and {} targets are selected; name one with --target NAME",
                many.len()
            )
            .into());
        }
    }
    let client = connect(&config).await?;
    let apis = client.rest_apis().await.map_err(|e| e.to_string())?;
    let matching: Vec<_> = apis
        .iter()
        .filter(|a| a.id == rest_api || a.name == rest_api)
        .collect();
    let api = match matching.as_slice() {
        [api] => *api,
        [] => {
            return Err(format!(
                "no REST API named or with id `{rest_api}` in this account and region"
            )
            .into());
        }
        many => {
            let ids: Vec<&str> = many.iter().map(|a| a.id.as_str()).collect();
            return Err(format!(
                "{} REST APIs are named `{rest_api}` (ids {}); export by id, and note that specs using \
                 restApiName cannot tell them apart",
                many.len(),
                ids.join(", ")
            )
            .into());
        }
    };
    let resources = client.resources(&api.id).await.map_err(|e| e.to_string())?;
    let files = crate::export::export_specs(&api.name, &resources);
    for warning in crate::export::broken_templates(&resources) {
        eprintln!("warning: {warning}");
    }
    let count: usize = files
        .iter()
        .map(|(_, text)| text.matches("kind: IntegrationResponse").count())
        .sum();
    match out {
        None => {
            let docs: Vec<&str> = files.iter().map(|(_, text)| text.as_str()).collect();
            print!("{}", docs.join("---\n"));
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            let mut written = std::collections::BTreeSet::new();
            for (name, text) in &files {
                let path = dir.join(name);
                // Never write over a file this export already wrote (names are unique
                // ignoring case; this keeps it so if that ever breaks).
                if !written.insert(name.to_lowercase()) {
                    return Err(format!(
                        "export would write {} twice; nothing after it was written (a bug: please report it)",
                        path.display()
                    )
                    .into());
                }
                std::fs::write(&path, text)
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            }
            eprintln!(
                "exported {count} integration response(s) of {} ({}) into {} file(s) in {}",
                api.name,
                api.id,
                files.len(),
                dir.display()
            );
        }
    }
    report_calls(&client);
    Ok(ExitCode::SUCCESS)
}
