"""The README and docs/ cannot rot: links resolve, commands parse, runnable snippets run, generated pages are current.

Each rule is checked on every page, and each can fail: a test plants a broken link, a wrong
option and a stale generated page and sees each reported.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness import docgen
from harness.cli import _parser
from tests.e2e import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = _FENCE.sub("", page.read_text(encoding="utf-8"))
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def broken_links(page: Path) -> list[str]:
    """Every relative link of a page whose file, or whose anchor in that file, does not exist."""
    out = []
    for target in _LINK.findall(_FENCE.sub("", page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+://", target) or target.startswith("mailto:"):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            out.append(f"{page.name}: {target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
            out.append(f"{page.name}: {target}: no heading #{anchor} in {file.name}")
    return out


def commands(page: Path) -> list[list[str]]:
    """Every ``conform ...`` command line shown in a page's code blocks (``$`` prompts and comments dropped)."""
    found = []
    for lang, block in _FENCE.findall(page.read_text(encoding="utf-8")):
        if lang not in ("", "sh", "bash", "shell", "console"):
            continue
        for line in block.splitlines():
            line = line.split("  #", 1)[0].strip().removeprefix("$ ").strip()
            for part in re.split(r"\s*&&\s*", line):
                if re.match(r"^(\S*/)?conform\s", part):  # conform, .venv/bin/conform
                    found.append(shlex.split(part)[1:])
    return found


def bad_commands(page: Path) -> list[str]:
    out = []
    parser = _parser()
    for words in commands(page):
        args = words[:words.index("--")] if "--" in words else words
        try:
            parser.parse_args(args)
        except SystemExit:
            out.append(f"{page.name}: conform {shlex.join(words)}")
    return out


def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page):
    assert not broken_links(page)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_conform_command_shown_parses_with_the_options_shown(page, capsys):
    assert not bad_commands(page)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_make_target_named_exists(page):
    named = set(re.findall(r"`make ([a-z][\w-]*)", page.read_text(encoding="utf-8")))
    assert named <= make_targets(), named - make_targets()


def test_the_readme_is_an_entry_point():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 300, len(lines)


def test_the_generated_pages_are_current():
    assert docgen.main(["--check"]) == 0


def test_each_rule_can_fail(tmp_path, monkeypatch, capsys):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[gone](missing.md) [here](#title) [there](#nowhere)\n\n```\n"
                    "conform run --pairs x --no-such-option\nconform robust --configs a\n```\n")
    assert broken_links(page) == ["page.md: missing.md: no such file", "page.md: #nowhere: no heading #nowhere in "
                                  "page.md"]
    assert bad_commands(page) == ["page.md: conform run --pairs x --no-such-option"]
    monkeypatch.setattr(docgen, "DOCS", tmp_path)
    (tmp_path / "atlas.md").write_text("stale\n")
    assert docgen.main(["--check"]) == 1 and "atlas.md" in capsys.readouterr().err


def _runnable(page: Path) -> list[str]:
    """Python blocks a page marks ``<!-- runnable -->`` just above them."""
    return re.findall(r"<!-- runnable[^>]*-->\n```python\n(.*?)```", page.read_text(encoding="utf-8"), re.S)


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if _runnable(p)], ids=lambda p: p.name)
def test_every_snippet_marked_runnable_runs(page, tmp_path):
    for i, code in enumerate(_runnable(page)):
        script = tmp_path / f"snippet_{i}.py"
        script.write_text(code)
        done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                              timeout=900, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
        assert done.returncode == 0, f"{page.name} snippet {i}:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
