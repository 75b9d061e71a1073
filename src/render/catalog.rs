//! Rendering catalog entries: `emscan explain` and `emscan codes`.

use std::io::{self, Write};

use crate::catalog::{CodeInfo, Lang};
use crate::render::fit::{Column, write_table, write_wrapped};

/// The catalog table's columns: meaning and hint wrap (cut at their caps without a limit),
/// the category goes first when the terminal is narrow.
const CODE_COLUMNS: [Column; 5] = [
    Column::KEEP,
    Column::KEEP.cap(usize::MAX, 12, true),
    Column::droppable(0),
    Column::KEEP.cap(40, 10, true),
    Column::KEEP.cap(60, 16, true),
];

/// Writes one code's explanation in `lang`, its prose wrapped to `limit` columns; with
/// `both`, a last line in the other language.
pub(crate) fn write_explain(
    out: &mut dyn Write,
    info: &CodeInfo,
    lang: Lang,
    both: bool,
    limit: Option<usize>,
) -> io::Result<()> {
    let (meaning, cause, hint, category, deprecated) = match lang {
        Lang::Zh => ("含义", "可能原因", "处理建议", "类别", "（已废弃）"),
        Lang::En => (
            "Meaning",
            "Likely cause",
            "What to do",
            "Category",
            " (deprecated)",
        ),
    };
    let flag = if info.deprecated { deprecated } else { "" };
    write_wrapped(out, &format!("{} {}{flag}", info.code, info.name), limit, 2)?;
    for line in [
        format!("  {category}: {}", info.category),
        format!("  {meaning}: {}", info.meaning(lang)),
        format!("  {cause}: {}", info.cause(lang)),
        format!("  {hint}: {}", info.hint(lang)),
    ] {
        write_wrapped(out, &line, limit, 4)?;
    }
    if !both {
        return Ok(());
    }
    // The other language, for the colleague who reads it first.
    let other = match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    let line = format!("  ({}; {})", info.meaning(other), info.hint(other));
    write_wrapped(out, &line, limit, 3)
}

/// Writes the catalog as a table fitted to `limit` columns.
pub(crate) fn write_codes(
    out: &mut dyn Write,
    entries: &[&CodeInfo],
    lang: Lang,
    limit: Option<usize>,
) -> io::Result<()> {
    let header = match lang {
        Lang::Zh => ["错误码", "名称", "类别", "含义", "处理建议"],
        Lang::En => ["code", "name", "category", "meaning", "hint"],
    };
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|info| {
            let name = if info.deprecated {
                format!("{} †", info.name)
            } else {
                info.name.clone()
            };
            vec![
                info.code.to_string(),
                name,
                info.category.to_string(),
                info.meaning(lang).to_string(),
                info.hint(lang).to_string(),
            ]
        })
        .collect();
    write_table(out, &header, &rows, &CODE_COLUMNS, limit, false)?;
    let note = match lang {
        Lang::Zh => "† 已废弃",
        Lang::En => "† deprecated",
    };
    writeln!(out, "{note}")
}
