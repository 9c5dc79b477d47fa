//! A document's shape, read by serde ([`crate::yaml::de`]), and the reporter the
//! domain rules write to.

use std::collections::HashSet;

use crate::yaml::de;
use crate::yaml::{Node, Pos};

/// Where each rule reports a problem: at a position, in words.
pub(super) type Report<'a> = dyn FnMut(Pos, String) + 'a;

/// Read `doc` as `T` (its shape): every problem serde found is reported; returned are
/// the value (if serde could build one), whether there were problems, and the reporter
/// for the domain rules, which stays silent where serde already refused a value (a
/// list where a string goes stands in as a neutral value the rules have nothing more
/// to say about).
pub(super) fn read_doc<'d, 'r, 'a: 'r, T: serde::Deserialize<'d>>(
    doc: &'d Node,
    report: &'r mut Report<'a>,
) -> (Option<T>, bool, impl FnMut(Pos, String) + 'r) {
    let (parsed, problems) = de::read_node::<T>(doc);
    let refused: HashSet<Pos> = problems.iter().map(|p| p.pos).collect();
    let failed = !problems.is_empty();
    for p in problems {
        report(p.pos, p.message);
    }
    let filtered = move |pos: Pos, message: String| {
        if !refused.contains(&pos) {
            report(pos, message);
        }
    };
    (parsed, failed, filtered)
}
