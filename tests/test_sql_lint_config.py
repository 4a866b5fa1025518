"""The SQL lint's config (.sqlfluff) holds what its jinja templater cannot read from dbt: a copy
of the project's vars and stand-ins for the macros that go through adapter.dispatch. A var or a
dispatched macro added to the project without its line here would lint a different SQL (or
none: `ignore = templating` skips what cannot render), so the copies must follow the project."""

from __future__ import annotations

import ast
import configparser
import re
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def lint_config() -> configparser.ConfigParser:
    config = configparser.ConfigParser(interpolation=None)
    config.optionxform = str  # macro and var names are case-sensitive
    config.read(REPO_ROOT / ".sqlfluff")
    return config


def test_the_lint_templates_with_the_vars_of_dbt_project_yml():
    project_vars = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())["vars"]
    copied = ast.literal_eval(lint_config()["sqlfluff:templater:jinja:context"]["project_vars"])
    assert copied == project_vars


def test_every_dispatched_macro_has_a_stand_in_for_the_lint():
    dispatched = {name for path in (REPO_ROOT / "dbt_project" / "macros").rglob("*.sql")
                  for name in re.findall(r"adapter\.dispatch\('(\w+)'", path.read_text())}
    stand_ins = set(lint_config()["sqlfluff:templater:jinja:macros"])
    assert len(dispatched) > 20 and dispatched <= stand_ins, sorted(dispatched - stand_ins)
