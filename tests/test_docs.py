"""The operator's docs name what the code has: commands, environment variables, settings.

An operator reads the README's *Command line* and *Configuration* and docs/operations.md, not
the code; a command or variable missing there does not exist for them, and one named there that
the code no longer has sends them astray. These tests read the files, not a running server.
"""

import re
from pathlib import Path

from django.core.management import get_commands

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
OPERATIONS = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
DOCS = {path.name: path.read_text(encoding="utf-8") for path in (ROOT / "docs").glob("*.md")}


def _section(text, title):
    """The text of a `## title` section, up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no section {title!r}"
    return match.group(1)


def _locus_commands():
    return sorted(
        path.stem
        for path in (ROOT / "locus").glob("*/management/commands/*.py")
        if not path.name.startswith("_")
    )


def _environment_variables():
    """Names the code reads from the environment (settings' env helpers, os.environ)."""
    names = set()
    sources = [ROOT / "config" / "settings.py", *(ROOT / "locus").rglob("*.py")]
    for path in sources:
        if "tests" in path.parts or "testing" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r"\benv(?:_bool|_list)?\(\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
        names.update(re.findall(r"os\.environ(?:\.get)?[\[(]\s*[\"']([A-Z][A-Z0-9_]+)[\"']", text))
    names.discard("DJANGO_SETTINGS_MODULE")
    return names


def _settings_read_with_a_default():
    """LOCUS_* settings the code reads with getattr(settings, …) but config/settings.py does not
    define: only a settings module of the operator's own sets them."""
    defined = set(
        re.findall(r"^([A-Z][A-Z0-9_]+)\s*=", (ROOT / "config/settings.py").read_text(), re.M)
    )
    names = set()
    for path in (ROOT / "locus").rglob("*.py"):
        if "tests" in path.parts:
            continue
        names.update(
            re.findall(r"getattr\(\s*settings,\s*\"(LOCUS_[A-Z0-9_]+)\"", path.read_text())
        )
    return names - defined


def test_every_command_is_in_the_readme():
    listed = set(re.findall(r"manage\.py ([a-z_]+)", _section(README, "Command line")))
    missing = [name for name in _locus_commands() if name not in listed]
    assert not missing, f"add to the README's 'Command line': {missing}"


def test_every_command_the_docs_name_exists():
    commands = set(get_commands())
    named = {
        (name, file)
        for file, text in [("README.md", README), *DOCS.items()]
        for name in re.findall(r"manage\.py ([a-z_]+)", text)
    }
    unknown = sorted((file, name) for name, file in named if name not in commands)
    assert not unknown, f"commands the docs name that do not exist: {unknown}"


def test_every_environment_variable_is_in_the_readme():
    table = _section(README, "Configuration")
    missing = sorted(name for name in _environment_variables() if f"`{name}`" not in table)
    assert not missing, f"add to the README's 'Configuration' table: {missing}"


def test_every_setting_without_a_variable_is_in_operations():
    missing = sorted(
        name for name in _settings_read_with_a_default() if f"`{name}`" not in OPERATIONS
    )
    assert not missing, f"add to docs/operations.md ('Settings'): {missing}"


def test_every_locus_name_the_docs_give_exists():
    """A LOCUS_* name in the docs is a variable the code reads or a setting it has."""
    from django.conf import settings

    known = _environment_variables() | _settings_read_with_a_default()
    named = {
        (name, file)
        for file, text in [("README.md", README), *DOCS.items()]
        for name in re.findall(r"\b(LOCUS_[A-Z0-9_]*[A-Z0-9])\b", text)
    }
    unknown = sorted(
        (file, name) for name, file in named if name not in known and not hasattr(settings, name)
    )
    assert not unknown, f"names the docs give that the code does not have: {unknown}"


def test_every_make_target_the_docs_name_exists():
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(), re.M))
    named = {
        name
        for text in [README, *DOCS.values()]
        for name in re.findall(r"`make ([a-z][a-z-]*)`", text)
    }
    assert named, "the docs name no make target"
    assert named <= targets, f"make targets the docs name that do not exist: {named - targets}"
