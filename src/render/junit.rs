//! Gate verdicts as JUnit XML: one test case per rule, a `failure` element for broken ones;
//! when files were skipped or partly read, one more test case, `input read whole`, that lists
//! them (and fails under `--strict`).

use std::io::{self, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use crate::gate::Verdict;
use crate::render::gate::{damaged_line, damaged_summary, describe};
use crate::render::text::escape_control;

/// Writes the verdict as a JUnit `testsuites` document (text and attributes XML-escaped,
/// control characters escaped as they are not allowed in XML 1.0).
pub(crate) fn write_junit(out: &mut dyn Write, verdict: &Verdict) -> io::Result<()> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let input_case = !verdict.damaged.is_empty();
    let input_fails = input_case && verdict.strict;
    let tests = (verdict.rules + usize::from(input_case)).to_string();
    let failures = (verdict.broken + usize::from(input_fails)).to_string();
    let counts = [
        ("tests", tests.as_str()),
        ("failures", failures.as_str()),
        ("errors", "0"),
    ];
    writer
        .create_element("testsuites")
        .with_attribute(("name", "emscan gate"))
        .with_attributes(counts)
        .write_inner_content(|w| {
            w.create_element("testsuite")
                .with_attribute(("name", "emscan gate"))
                .with_attributes(counts)
                .with_attribute(("skipped", "0"))
                .write_inner_content(|w| {
                    for outcome in &verdict.outcomes {
                        let name = escape_control(&outcome.rule);
                        let class = format!("emscan.gate.{}", outcome.kind.as_str());
                        let case = w
                            .create_element("testcase")
                            .with_attribute(("name", name.as_ref()))
                            .with_attribute(("classname", class.as_str()));
                        if outcome.passed {
                            case.write_empty()?;
                            continue;
                        }
                        let message =
                            format!("{} (limit {})", outcome.actual_text(), outcome.limit_text());
                        let text = escape_control(&describe(verdict, outcome)).into_owned();
                        case.write_inner_content(|w| {
                            w.create_element("failure")
                                .with_attribute(("message", message.as_str()))
                                .with_attribute(("type", outcome.kind.as_str()))
                                .write_text_content(BytesText::new(&text))?;
                            Ok(())
                        })?;
                    }
                    if input_case {
                        let list: Vec<String> = verdict
                            .damaged
                            .iter()
                            .map(|d| escape_control(&damaged_line(verdict, d)).into_owned())
                            .collect();
                        let list = list.join("\n");
                        let message = damaged_summary(verdict).unwrap_or_default();
                        w.create_element("testcase")
                            .with_attribute(("name", "input read whole"))
                            .with_attribute(("classname", "emscan.gate.input"))
                            .write_inner_content(|w| {
                                if input_fails {
                                    w.create_element("failure")
                                        .with_attribute(("message", message.as_str()))
                                        .with_attribute(("type", "input"))
                                        .write_text_content(BytesText::new(&list))?;
                                } else {
                                    w.create_element("system-out")
                                        .write_text_content(BytesText::new(&list))?;
                                }
                                Ok(())
                            })?;
                    }
                    Ok(())
                })?;
            Ok(())
        })?;
    out.write_all(&writer.into_inner())?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::gate::tests::{broken, verdict};
    use quick_xml::XmlVersion;
    use quick_xml::events::Event;
    use quick_xml::reader::Reader;

    #[test]
    fn log_derived_text_is_escaped_and_parses_back() {
        let mut o = broken("R&D <\"x\">", "a&b<c>/\u{1b}easemob.log", 3);
        o.rule = "max R&D <\"x\">".into();
        let mut out = Vec::new();
        write_junit(&mut out, &verdict(vec![o])).unwrap();
        let xml = String::from_utf8(out).unwrap();
        assert!(!xml.contains('\u{1b}'));
        let mut reader = Reader::from_str(&xml);
        let mut names = Vec::new();
        let mut text = String::new();
        let mut in_failure = false;
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "testcase" => {
                    let name = e.try_get_attribute("name").unwrap().unwrap();
                    names.push(
                        name.normalized_value(XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    );
                }
                Event::Start(e) if e.name().as_ref() == "failure" => in_failure = true,
                Event::End(e) if e.name().as_ref() == "failure" => in_failure = false,
                Event::Text(t) if in_failure => {
                    text.push_str(&t.xml_content(XmlVersion::Implicit1_0))
                }
                Event::GeneralRef(r) if in_failure => {
                    let name = r.xml_content(XmlVersion::Implicit1_0);
                    text.push_str(match name.as_ref() {
                        "amp" => "&",
                        "lt" => "<",
                        "gt" => ">",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("entity {other}"),
                    });
                }
                Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(names, ["max R&D <\"x\">"]);
        assert!(
            text.contains("first at a&b<c>/\\u{1b}easemob.log:3"),
            "{text}"
        );
    }
}
