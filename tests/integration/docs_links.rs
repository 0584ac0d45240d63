//! Every relative link in README.md and docs/*.md points at a file that exists, and every
//! `#anchor` matches a heading of the page it names (GitHub's slugs), so the docs moved out
//! of the README stay reachable on GitHub and in the mdBook; docs/ builds as a book whose
//! every relative link resolves.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use crate::support::{repo, required_tool};

/// The pages checked: the README and every Markdown page in docs/.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    pages.sort();
    pages
}

/// The page's lines outside fenced code blocks, with inline code spans removed.
fn prose_lines(text: &str) -> Vec<String> {
    let mut in_fence = false;
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            let kept: String = line.split('`').step_by(2).collect::<Vec<_>>().join("");
            lines.push(kept);
        }
    }
    lines
}

/// GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens;
/// a repeated heading gets `-1`, `-2`….
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut in_fence = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if in_fence || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut unique = slug.clone();
        let mut n = 1;
        while seen.contains(&unique) {
            unique = format!("{slug}-{n}");
            n += 1;
        }
        seen.insert(unique);
    }
    seen
}

/// The targets of `[text](target)` and `![alt](target)` links on a line.
fn link_targets(line: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        let target = after[..end].split_whitespace().next().unwrap_or("");
        targets.push(target.to_string());
        rest = &after[end..];
    }
    targets
}

fn broken_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    let mut broken = Vec::new();
    for line in &prose_lines(&text) {
        for target in link_targets(line) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = match target.split_once('#') {
                Some((file, anchor)) => (file, Some(anchor)),
                None => (target.as_str(), None),
            };
            let path = if file.is_empty() {
                page.to_path_buf()
            } else {
                dir.join(file)
            };
            let name = page.strip_prefix(repo()).unwrap().display();
            let in_docs = dir.ends_with("docs");
            if in_docs && file.starts_with("..") {
                broken.push(format!(
                    "{name}: `{target}`: outside docs/, so the book cannot serve it"
                ));
                continue;
            }
            if !path.exists() {
                broken.push(format!("{name}: `{target}`: no file `{}`", path.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let target_text = std::fs::read_to_string(&path).unwrap_or_default();
                if !anchors(&target_text).contains(anchor) {
                    broken.push(format!(
                        "{name}: `{target}`: no heading with anchor `#{anchor}`"
                    ));
                }
            }
        }
    }
    broken
}

#[test]
fn every_relative_link_and_anchor_in_the_docs_resolves() {
    let broken: Vec<String> = pages().iter().flat_map(|p| broken_links(p)).collect();
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn the_readme_stays_a_front_door() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; move detail to docs/"
    );
}

#[test]
fn the_book_lists_every_page() {
    let summary = std::fs::read_to_string(repo().join("docs/SUMMARY.md")).unwrap();
    for page in pages() {
        let name = page.file_name().unwrap().to_str().unwrap();
        if page.parent() == Some(&repo().join("docs")) && name != "SUMMARY.md" {
            assert!(
                summary.contains(&format!("({name})")),
                "docs/SUMMARY.md does not list `{name}`"
            );
        }
    }
}

/// `mdbook build docs` succeeds without a warning, and every relative `href`/`src` in the
/// built pages names a file the book contains.
#[test]
fn the_docs_build_as_a_book_without_broken_links() {
    let Some(mdbook) = required_tool("mdbook") else {
        return;
    };
    let out = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(mdbook)
        .arg("build")
        .arg(repo().join("docs"))
        .arg("--dest-dir")
        .arg(out.path())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "mdbook build failed:\n{log}");
    assert!(
        !log.contains("WARN") && !log.contains("ERROR"),
        "mdbook build warned:\n{log}"
    );
    let mut broken = Vec::new();
    for entry in std::fs::read_dir(out.path()).unwrap() {
        let page = entry.unwrap().path();
        if page.extension().is_some_and(|e| e == "html") {
            broken.extend(broken_book_links(&page));
        }
    }
    assert!(
        broken.is_empty(),
        "broken links in the book:\n{}",
        broken.join("\n")
    );
}

/// Relative `href="…"` and `src="…"` targets of a built page that name no file. Links from
/// the root (`/…`, only on mdBook's 404 page) and to other sites are not the book's own.
fn broken_book_links(page: &Path) -> Vec<String> {
    let html = std::fs::read_to_string(page).unwrap();
    let dir = page.parent().unwrap();
    let mut broken = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for piece in html.split(attribute).skip(1) {
            let target = piece.split('"').next().unwrap_or("");
            let file = target.split(['#', '?']).next().unwrap_or("");
            if file.is_empty() || file.starts_with('/') || target.contains(':') {
                continue;
            }
            if !dir.join(file).exists() {
                let name = page.file_name().unwrap().to_string_lossy();
                broken.push(format!("{name}: `{target}`"));
            }
        }
    }
    broken
}

#[test]
fn the_slugs_follow_github() {
    let slugs = anchors(
        "# Reports: what `stats.csv` means\n## `--set` and the other overrides\n## A\n## A\n",
    );
    for slug in [
        "reports-what-statscsv-means",
        "--set-and-the-other-overrides",
        "a",
        "a-1",
    ] {
        assert!(slugs.contains(slug), "{slug} not in {slugs:?}");
    }
}
