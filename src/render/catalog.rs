//! Rendering catalog entries: `emscan explain` and `emscan codes`.

use std::io::{self, Write};

use crate::catalog::{CodeInfo, Lang, Tier};
use crate::model::CodeSummary;
use crate::render::fit::{Column, write_table, write_wrapped};
use crate::render::text::escape_control;

/// The line that marks a newer-tier code: not in the Windows SDK table, and where it is from.
pub(crate) fn newer_line(info: &CodeInfo, lang: Lang) -> Option<String> {
    if info.tier != Tier::Newer {
        return None;
    }
    let source = info.source.as_deref().unwrap_or("-");
    Some(match lang {
        Lang::Zh => format!("不在 Windows SDK 错误码表中；来自新版 SDK 的错误码文档：{source}"),
        Lang::En => {
            format!("Not in the Windows SDK table; from newer SDKs' error-code pages: {source}")
        }
    })
}

/// An unknown code as a cell: its number, and its newer-tier name when it has one (control
/// characters escaped: a saved summary may carry any text).
pub(crate) fn unknown_code_cell(code: &CodeSummary) -> String {
    match &code.name {
        Some(name) => format!("{} {}", code.code, escape_control(name)),
        None => code.code.to_string(),
    }
}

/// The note under a list of unknown codes when some are named: where the names come from.
pub(crate) fn newer_names_note(codes: &[CodeSummary], lang: Lang) -> Option<&'static str> {
    codes.iter().any(|c| c.tier == Some(Tier::Newer)).then_some(match lang {
        Lang::Zh => "有名称的错误码来自新版 SDK，不在 Windows SDK 错误码表中（emscan explain 错误码 查看来源）。",
        Lang::En => "Named codes are from newer SDKs, not in the Windows SDK table (emscan explain CODE shows the source).",
    })
}

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
    if let Some(line) = newer_line(info, lang) {
        write_wrapped(out, &format!("  {line}"), limit, 4)?;
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
    if entries.iter().any(|e| e.tier == Tier::Newer) {
        let note = match lang {
            Lang::Zh => {
                "以上错误码不在 Windows SDK 错误码表中，来自新版 SDK 的错误码文档；扫描时仍算作目录外错误码。来源："
            }
            Lang::En => {
                "These codes are not in the Windows SDK table; they come from newer SDKs' error-code pages and still count as unknown in a scan. Sources:"
            }
        };
        write_wrapped(out, note, limit, 2)?;
        let mut sources: Vec<&str> = entries.iter().filter_map(|e| e.source.as_deref()).collect();
        sources.sort_unstable();
        sources.dedup();
        for source in sources {
            writeln!(out, "  {source}")?;
        }
        return Ok(());
    }
    let note = match lang {
        Lang::Zh => "† 已废弃",
        Lang::En => "† deprecated",
    };
    writeln!(out, "{note}")
}
