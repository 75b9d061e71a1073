//! Rendering catalog entries: `emscan explain` and `emscan codes`.

use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Style, Width};

use crate::catalog::{CodeInfo, Lang};

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
    let note = match lang {
        Lang::Zh => "† 已废弃",
        Lang::En => "† deprecated",
    };
    writeln!(out, "{note}")
}
