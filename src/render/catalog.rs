//! Rendering catalog entries: `emscan explain` and `emscan codes`.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Style, Width};

use crate::catalog::{CodeInfo, Lang, Tier};
use crate::model::CodeSummary;
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

/// Writes one code's explanation in `lang`; with `both`, a last line in the other language.
pub(crate) fn write_explain(
    out: &mut dyn Write,
    info: &CodeInfo,
    lang: Lang,
    both: bool,
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
    writeln!(out, "{} {}{flag}", info.code, info.name)?;
    writeln!(out, "  {category}: {}", info.category)?;
    writeln!(out, "  {meaning}: {}", info.meaning(lang))?;
    writeln!(out, "  {cause}: {}", info.cause(lang))?;
    writeln!(out, "  {hint}: {}", info.hint(lang))?;
    if let Some(line) = newer_line(info, lang) {
        writeln!(out, "  {line}")?;
    }
    if !both {
        return Ok(());
    }
    // The other language, for the colleague who reads it first.
    let other = match lang {
        Lang::Zh => Lang::En,
        Lang::En => Lang::Zh,
    };
    writeln!(out, "  ({}; {})", info.meaning(other), info.hint(other))
}

/// Writes the catalog as a table.
pub(crate) fn write_codes(
    out: &mut dyn Write,
    entries: &[&CodeInfo],
    lang: Lang,
) -> io::Result<()> {
    let header = match lang {
        Lang::Zh => ["错误码", "名称", "类别", "含义", "处理建议"],
        Lang::En => ["code", "name", "category", "meaning", "hint"],
    };
    let mut builder = Builder::default();
    builder.push_record(header);
    for info in entries {
        let name = if info.deprecated {
            format!("{} †", info.name)
        } else {
            info.name.clone()
        };
        builder.push_record([
            info.code.to_string(),
            name,
            info.category.to_string(),
            info.meaning(lang).to_string(),
            info.hint(lang).to_string(),
        ]);
    }
    let mut table = builder.build();
    table
        .with(Style::sharp())
        .modify(Columns::new(3..4), Width::truncate(40).suffix("…"))
        .modify(Columns::new(4..5), Width::truncate(60).suffix("…"));
    writeln!(out, "{table}")?;
    if entries.iter().any(|e| e.tier == Tier::Newer) {
        let note = match lang {
            Lang::Zh => {
                "以上错误码不在 Windows SDK 错误码表中，来自新版 SDK 的错误码文档；扫描时仍算作目录外错误码。来源："
            }
            Lang::En => {
                "These codes are not in the Windows SDK table; they come from newer SDKs' error-code pages and still count as unknown in a scan. Sources:"
            }
        };
        writeln!(out, "{note}")?;
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
