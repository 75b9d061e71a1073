//! What an incident summary says, shared by the Markdown and HTML renderers: the two-line
//! verdict, the damaged-input warning, label names and hints, the "what to check first" steps
//! and which bursts are shown in full.
//!
//! Both renderers give the sections in one order: verdict → what to check first → top codes →
//! devices → bursts (the worst in full, the rest as a table) → timeline → unmatched lines.

use std::collections::BTreeMap;

use crate::Summary;
use crate::catalog::{Catalog, Lang};
use crate::model::{Burst, DisconnectCause, StoryEntry};

/// Report output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum ReportFormat {
    /// Markdown that pastes cleanly into a ticket.
    #[default]
    Markdown,
    /// One self-contained HTML file (inline CSS and SVG, no scripts).
    Html,
}

/// A label family of [`crate::analyze::bursts::label`], for people: label, English and Chinese
/// name, the codes, and what to do (English, Chinese).
type Family = (
    &'static str,
    &'static str,
    &'static str,
    &'static [u32],
    &'static str,
    &'static str,
);

/// The label families.
const FAMILIES: [Family; 4] = [
    (
        "network_outage",
        "network outage",
        "网络中断",
        &[2, 300, 301, 302],
        "Check the PC's network, proxy and firewall (the IM and REST hosts and their ports must be reachable); the SDK reconnects by itself once the network is back.",
        "检查电脑的网络、代理与防火墙（IM 与 REST 服务器地址及端口必须可达）；网络恢复后 SDK 会自动重连。",
    ),
    (
        "token_expiry",
        "token expiry",
        "Token 过期",
        &[104, 108, 109, 202],
        "Renew the token with RenewToken when onTokenWillExpire fires; once logged out, fetch a fresh token from your app server and log in again.",
        "在收到 onTokenWillExpire 时调用 RenewToken 续期；已被登出时，从应用服务器获取新 token 后重新登录。",
    ),
    (
        "kicked_offline",
        "kicked offline",
        "被踢下线",
        &[206, 207, 213, 216, 217],
        "The account was logged in elsewhere, removed, or its password changed: check the multi-device policy and tell the user why on onDisconnect 206/207/216/217 instead of retrying.",
        "账号在别处登录、被删除或密码被修改：检查多设备登录策略，在 onDisconnect 206/207/216/217 时告知用户原因，不要盲目重试。",
    ),
    (
        "rate_limited",
        "rate limited",
        "被限流",
        &[502, 509],
        "Slow down: fewer messages or calls per second, batch them, and back off after 502/509.",
        "降低频率：减少每秒消息或调用次数，合并请求，遇到 502/509 后退避重试。",
    ),
];

/// USER_NOT_LOGIN: the aftermath of a token expiry or a kick.
const NOT_LOGGED_IN: u32 = 201;

/// A burst label for people.
pub(crate) fn label_name(label: Option<&str>, lang: Lang) -> String {
    let Some(label) = label else {
        return match lang {
            Lang::En => "error burst".into(),
            Lang::Zh => "错误突增".into(),
        };
    };
    FAMILIES.iter().find(|f| f.0 == label).map_or_else(
        || label.replace('_', " "),
        |f| match lang {
            Lang::En => f.1.to_string(),
            Lang::Zh => f.2.to_string(),
        },
    )
}

/// What to do about a labelled burst.
pub(crate) fn label_hint(label: Option<&str>, lang: Lang) -> Option<&'static str> {
    let family = FAMILIES.iter().find(|f| Some(f.0) == label)?;
    Some(match lang {
        Lang::En => family.4,
        Lang::Zh => family.5,
    })
}

/// The disconnects whose cause the log states, in device order, each device's in story order:
/// the device, the story entry and the cause.
pub(crate) fn caused_disconnects(summary: &Summary) -> Vec<(&str, &StoryEntry, DisconnectCause)> {
    summary
        .devices
        .iter()
        .flat_map(|d| {
            d.story
                .iter()
                .filter_map(move |e| Some((d.name.as_str(), e, e.cause?)))
        })
        .collect()
}

/// What "What to check first" says when no error code occurred: nothing, or the disconnects
/// whose cause the log states (a kick by another device writes no code line).
pub(crate) fn nothing_to_check(summary: &Summary, lang: Lang) -> String {
    let caused = caused_disconnects(summary).len();
    match (caused, lang) {
        (0, Lang::En) => "No error code occurred: nothing to check.".into(),
        (0, Lang::Zh) => "没有出现错误码：无需检查。".into(),
        (n, Lang::En) => format!(
            "No error code occurred, but {n} disconnect{} had a cause the log states (logged in \
             on another device): see Devices.",
            if n == 1 { "" } else { "s" }
        ),
        (n, Lang::Zh) => format!(
            "没有出现错误码，但日志写明了 {n} 次断线的原因（账号在其他设备登录）：见“设备”一节。"
        ),
    }
}

/// The causes among `caused`, each once, in order.
pub(crate) fn distinct_causes(
    caused: &[(&str, &StoryEntry, DisconnectCause)],
) -> Vec<DisconnectCause> {
    let mut causes: Vec<_> = caused.iter().map(|(.., cause)| *cause).collect();
    causes.sort_unstable();
    causes.dedup();
    causes
}

/// A disconnect cause for people.
pub(crate) fn cause_name(cause: DisconnectCause, lang: Lang) -> &'static str {
    match (cause, lang) {
        (DisconnectCause::LoginAnotherDevice, Lang::En) => "logged in on another device",
        (DisconnectCause::LoginAnotherDevice, Lang::Zh) => "账号在其他设备登录",
    }
}

/// What to do about a cause: the catalog hint of the code it stands for, saying why.
pub(crate) fn cause_hint(cause: DisconnectCause, catalog: &Catalog, lang: Lang) -> String {
    let code = cause.code();
    let (name, hint) = catalog
        .get(code)
        .map_or(("", ""), |info| (info.name.as_str(), info.hint(lang)));
    match (cause, lang) {
        (DisconnectCause::LoginAnotherDevice, Lang::En) => format!(
            "Logged in on another device (handleDisconnect followed by ConnUserLoginAnotherDevice, \
             the desktop core's kick without an error code line) is code {code} {name}: {hint}"
        ),
        (DisconnectCause::LoginAnotherDevice, Lang::Zh) => format!(
            "账号在其他设备登录（handleDisconnect 之后紧跟 ConnUserLoginAnotherDevice，\
             即桌面端 C++ 内核的踢下线，没有错误码行）相当于错误码 {code} {name}：{hint}"
        ),
    }
}

/// One caused disconnect in words: the cause, the reason and, when an `onDisconnect…` code
/// reports it, that code.
pub(crate) fn cause_detail(entry: &StoryEntry, cause: DisconnectCause, lang: Lang) -> String {
    let name = cause_name(cause, lang);
    let reason = entry.value.map(|v| v.to_string()).unwrap_or_default();
    let code = cause.code();
    match (lang, entry.reported_by_listener) {
        (Lang::En, false) => format!("{name} (handleDisconnect:{reason})"),
        (Lang::En, true) => {
            format!("{name} (handleDisconnect:{reason}; reported by onDisconnect {code})")
        }
        (Lang::Zh, false) => format!("{name}（handleDisconnect:{reason}）"),
        (Lang::Zh, true) => {
            format!("{name}（handleDisconnect:{reason}；onDisconnect {code} 已报告）")
        }
    }
}

/// How many caused disconnects the report lists.
pub(crate) const TOP_CAUSED: usize = 10;

/// One remediation step and how much of the trouble it explains.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    /// What to do.
    pub(crate) text: String,
    /// The codes it addresses, most frequent first.
    pub(crate) codes: Vec<u32>,
    /// Errors it explains.
    pub(crate) explained: u64,
}

/// The remediation steps, ordered by how many errors each explains (then by text): one per
/// label family that occurs (its codes, plus the 201s inside its bursts), and one per other
/// code (the catalog's hint).
pub(crate) fn steps(summary: &Summary, catalog: &Catalog, lang: Lang) -> Vec<Step> {
    let counts: BTreeMap<u32, u64> = summary
        .codes
        .iter()
        .chain(&summary.unknown_codes)
        .map(|c| (c.code, c.count))
        .collect();
    let mut left = counts.clone();
    let mut steps = Vec::new();
    for (label, .., members, en, zh) in FAMILIES {
        let mut codes: Vec<u32> = members
            .iter()
            .copied()
            .filter(|c| counts.contains_key(c))
            .collect();
        if codes.is_empty() {
            continue;
        }
        let mut explained: u64 = codes.iter().filter_map(|c| left.remove(c)).sum();
        // The 201s of this family's bursts are its aftermath.
        let aftermath: u64 = summary
            .bursts
            .iter()
            .filter(|b| b.label.as_deref() == Some(label))
            .filter_map(|b| b.codes.get(&NOT_LOGGED_IN.to_string()))
            .sum();
        if let Some(n) = left.get_mut(&NOT_LOGGED_IN) {
            let taken = aftermath.min(*n);
            *n -= taken;
            explained += taken;
            if taken > 0 {
                codes.push(NOT_LOGGED_IN);
            }
        }
        codes.sort_by_key(|c| std::cmp::Reverse(counts.get(c).copied().unwrap_or(0)));
        steps.push(Step {
            text: match lang {
                Lang::En => en.to_string(),
                Lang::Zh => zh.to_string(),
            },
            codes,
            explained,
        });
    }
    for (code, n) in left {
        if n == 0 {
            continue;
        }
        let text = match (catalog.get(code), catalog.newer(code)) {
            (Some(info), _) => info.hint(lang).to_string(),
            (None, Some(info)) => match lang {
                Lang::En => format!(
                    "Code {code} {} is not in the Windows SDK table (a newer SDK's code, {}): {}",
                    info.name,
                    info.source.as_deref().unwrap_or("-"),
                    info.hint(lang)
                ),
                Lang::Zh => format!(
                    "错误码 {code} {} 不在 Windows SDK 错误码表中（新版 SDK 的错误码，{}）：{}",
                    info.name,
                    info.source.as_deref().unwrap_or("-"),
                    info.hint(lang)
                ),
            },
            (None, None) => match lang {
                Lang::En => format!(
                    "Code {code} is not in the catalog (a newer SDK?): look up its first occurrence and the SDK release notes."
                ),
                Lang::Zh => format!(
                    "错误码 {code} 不在目录中（新版 SDK？）：查看其首次出现的位置和 SDK 发布说明。"
                ),
            },
        };
        steps.push(Step {
            text,
            codes: vec![code],
            explained: n,
        });
    }
    steps.sort_by(|a, b| {
        b.explained
            .cmp(&a.explained)
            .then_with(|| a.codes.cmp(&b.codes))
    });
    steps
}

/// First and last error time, across codes.
fn error_span(summary: &Summary) -> (Option<String>, Option<String>) {
    let codes = summary.codes.iter().chain(&summary.unknown_codes);
    let first = codes.clone().filter_map(|c| c.first).min();
    let last = codes.filter_map(|c| c.last).max();
    (first.map(|t| t.to_string()), last.map(|t| t.to_string()))
}

/// Bursts shown in full; the others are one table row each.
pub(crate) const FULL_BURSTS: usize = 3;

/// Files listed by name in the damaged-input warning; the rest are counted.
const DAMAGED_LISTED: usize = 5;

/// The verdict in two lines: what broke, when, on how many devices; then the most frequent
/// code and the worst burst.
pub(crate) fn verdict(summary: &Summary, lang: Lang) -> [String; 2] {
    let errors = summary.error_count();
    let devices = summary.devices.len();
    let affected = summary.devices.iter().filter(|d| d.errors > 0).count();
    if errors == 0 {
        let first = match lang {
            Lang::En => format!(
                "No SDK errors in {} {} from {devices} {}.",
                summary.stats.files,
                if summary.stats.files == 1 {
                    "file"
                } else {
                    "files"
                },
                if devices == 1 { "device" } else { "devices" }
            ),
            Lang::Zh => format!(
                "{} 个文件（{devices} 台设备）中没有 SDK 错误。",
                summary.stats.files
            ),
        };
        return [first, String::new()];
    }
    let (first, last) = error_span(summary);
    let (first, last) = (
        first.unwrap_or_else(|| "-".into()),
        last.unwrap_or_else(|| "-".into()),
    );
    let top = summary.codes.first().or(summary.unknown_codes.first());
    let top = top.map_or_else(String::new, |c| {
        format!(
            "{} {} ({})",
            c.code,
            c.name.as_deref().unwrap_or("?"),
            c.count
        )
    });
    let worst = full_bursts(summary)
        .first()
        .map(|b| burst_list(&[*b], lang));
    let n = summary.bursts.len();
    match lang {
        Lang::En => {
            let mut second = format!("Most frequent: {top}.");
            if let Some(worst) = worst {
                let noun = if n == 1 { "burst" } else { "bursts" };
                second.push_str(&format!(" {n} {noun}; the worst: {worst}."));
            }
            [
                format!(
                    "{errors} SDK errors on {affected} of {devices} devices, {first} .. {last}."
                ),
                second,
            ]
        }
        Lang::Zh => {
            let mut second = format!("最多的是 {top}。");
            if let Some(worst) = worst {
                second.push_str(&format!("{n} 次突增，最严重：{worst}。"));
            }
            [
                format!(
                    "{first} 至 {last}，{devices} 台设备中有 {affected} 台出现 {errors} 个 SDK 错误。"
                ),
                second,
            ]
        }
    }
}

/// The warning that some input was skipped or only partly read, naming the files; `None` when
/// every file was read whole.
pub(crate) fn damaged(summary: &Summary, lang: Lang) -> Option<String> {
    let mut bad: Vec<String> = summary
        .skipped
        .iter()
        .filter(|s| !s.counted_elsewhere)
        .map(|s| format!("{} ({})", s.path, s.reason))
        .collect();
    bad.extend(
        summary
            .files
            .iter()
            .filter_map(|f| Some(format!("{} ({})", f.path, f.warning.as_deref()?))),
    );
    if bad.is_empty() {
        return None;
    }
    let n = bad.len();
    let more = n.saturating_sub(DAMAGED_LISTED);
    bad.truncate(DAMAGED_LISTED);
    let list = bad.join("; ");
    Some(match lang {
        Lang::En => {
            let tail = if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            };
            format!(
                "{n} files were skipped or only partly read, so counts may be low: {list}{tail}"
            )
        }
        Lang::Zh => {
            let tail = if more > 0 {
                format!("；另有 {more} 个")
            } else {
                String::new()
            };
            format!("{n} 个文件被跳过或只读取了一部分，计数可能偏低：{list}{tail}")
        }
    })
}

/// The bursts shown in full: the [`FULL_BURSTS`] with the most errors (earliest first among
/// equals), worst first.
pub(crate) fn full_bursts(summary: &Summary) -> Vec<&Burst> {
    let mut bursts: Vec<&Burst> = summary.bursts.iter().collect();
    bursts.sort_by(|a, b| b.errors.cmp(&a.errors).then(a.start.cmp(&b.start)));
    bursts.truncate(FULL_BURSTS);
    bursts
}

/// The other bursts, in time order: one table row each.
pub(crate) fn other_bursts(summary: &Summary) -> Vec<&Burst> {
    let full = full_bursts(summary);
    summary
        .bursts
        .iter()
        .filter(|b| !full.iter().any(|f| std::ptr::eq(*f, *b)))
        .collect()
}

/// `network outage on PC-ALICE at 09:21, …`
fn burst_list(bursts: &[&Burst], lang: Lang) -> String {
    let parts: Vec<String> = bursts
        .iter()
        .map(|b| {
            let at = b.start.to_string();
            let hm = at.get(11..16).unwrap_or(&at);
            match lang {
                Lang::En => format!(
                    "{} on {} at {hm}",
                    label_name(b.label.as_deref(), lang),
                    b.devices.join(", ")
                ),
                Lang::Zh => format!(
                    "{} {}（{}）",
                    hm,
                    label_name(b.label.as_deref(), lang),
                    b.devices.join("、")
                ),
            }
        })
        .collect();
    match lang {
        Lang::En => parts.join(", "),
        Lang::Zh => parts.join("，"),
    }
}

/// Codes of a burst, most frequent first.
pub(crate) fn burst_codes(burst: &Burst) -> Vec<(u32, u64)> {
    let mut codes: Vec<(u32, u64)> = burst
        .codes
        .iter()
        .filter_map(|(c, n)| Some((c.parse().ok()?, *n)))
        .collect();
    codes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    codes
}

/// Text labels of the report in one language.
pub(crate) struct ReportLabels {
    /// Document title.
    pub(crate) title: &'static str,
    /// Section titles.
    pub(crate) bursts: &'static str,
    /// No bursts found.
    pub(crate) no_bursts: &'static str,
    /// Section.
    pub(crate) top_codes: &'static str,
    /// Section.
    pub(crate) devices: &'static str,
    /// Section.
    pub(crate) check_first: &'static str,
    /// Section.
    pub(crate) timeline: &'static str,
    /// Section.
    pub(crate) unmatched: &'static str,
    /// Table header of codes.
    pub(crate) code_header: [&'static str; 6],
    /// Table header of devices.
    pub(crate) device_header: [&'static str; 9],
    /// Table header of burst codes.
    pub(crate) burst_code_header: [&'static str; 3],
    /// Table header of unmatched templates.
    pub(crate) unmatched_header: [&'static str; 3],
    /// Table header of the bursts not shown in full.
    pub(crate) burst_header: [&'static str; 5],
    /// Title of the bursts not shown in full.
    pub(crate) other_bursts: &'static str,
    /// "explains N errors".
    pub(crate) explains: &'static str,
    /// "what to do".
    pub(crate) what_to_do: &'static str,
    /// Representative lines.
    pub(crate) lines: &'static str,
    /// Scanned paths.
    pub(crate) scanned: &'static str,
    /// Time window.
    pub(crate) window: &'static str,
    /// The bucket unit.
    pub(crate) per_bucket: &'static str,
    /// Title of the list of disconnects whose cause the log states.
    pub(crate) caused: &'static str,
}

/// English labels.
pub(crate) const EN: ReportLabels = ReportLabels {
    title: "Incident summary",
    bursts: "Bursts",
    no_bursts: "No bursts: errors never rose far above their background rate.",
    top_codes: "Top codes",
    devices: "Devices",
    check_first: "What to check first",
    timeline: "Timeline",
    unmatched: "Error lines no rule understands",
    code_header: [
        "code",
        "name",
        "count",
        "devices",
        "what to do",
        "likely cause",
    ],
    device_header: [
        "device",
        "first",
        "last",
        "files",
        "errors",
        "bursts",
        "gaps",
        "prefix",
        "disconnects",
    ],
    burst_code_header: ["code", "name", "count"],
    unmatched_header: ["count", "template", "example at"],
    burst_header: ["start", "end", "kind", "devices", "errors"],
    other_bursts: "Other bursts",
    explains: "explains",
    what_to_do: "What to do",
    lines: "Representative lines",
    scanned: "Scanned",
    window: "Window",
    per_bucket: "errors per",
    caused: "Disconnects the log gives a cause for",
};

/// Chinese labels.
pub(crate) const ZH: ReportLabels = ReportLabels {
    title: "故障摘要",
    bursts: "错误突增",
    no_bursts: "无突增：错误从未明显高于背景水平。",
    top_codes: "主要错误码",
    devices: "设备",
    check_first: "优先检查",
    timeline: "时间线",
    unmatched: "未被规则识别的错误行",
    code_header: ["错误码", "名称", "次数", "设备数", "处理建议", "可能原因"],
    device_header: [
        "设备",
        "开始",
        "结束",
        "文件数",
        "错误数",
        "突增",
        "断档",
        "前缀格式",
        "断线次数",
    ],
    burst_code_header: ["错误码", "名称", "次数"],
    unmatched_header: ["次数", "模板", "示例位置"],
    burst_header: ["开始", "结束", "类型", "设备", "错误数"],
    other_bursts: "其他突增",
    explains: "可解释",
    what_to_do: "处理建议",
    lines: "代表性日志",
    scanned: "扫描路径",
    window: "时间范围",
    per_bucket: "错误数 /",
    caused: "日志写明原因的断线",
};

/// The labels of `lang`.
pub(crate) fn labels(lang: Lang) -> &'static ReportLabels {
    match lang {
        Lang::En => &EN,
        Lang::Zh => &ZH,
    }
}

/// Bursts a device took part in.
pub(crate) fn device_bursts(summary: &Summary, device: &str) -> usize {
    summary
        .bursts
        .iter()
        .filter(|b| b.devices.iter().any(|d| d == device))
        .count()
}

/// How many codes the "top codes" section lists.
pub(crate) const TOP_CODES: usize = 10;
/// How many steps "what to check first" lists.
pub(crate) const TOP_STEPS: usize = 6;
/// How many unmatched templates (not known noise) the report lists.
pub(crate) const TOP_UNMATCHED: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_have_names_and_hints() {
        assert_eq!(
            label_name(Some("network_outage"), Lang::En),
            "network outage"
        );
        assert_eq!(label_name(Some("token_expiry"), Lang::Zh), "Token 过期");
        assert_eq!(label_name(None, Lang::En), "error burst");
        assert!(label_hint(Some("rate_limited"), Lang::En).is_some());
        assert!(label_hint(None, Lang::En).is_none());
    }
}
