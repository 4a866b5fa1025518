"""Column mappings: how a CSV family (a CRM export object, form submissions, signals) maps onto
a raw table. Mappings are YAML files so users can point the pipeline at their own exports."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import yaml

MAPPINGS_DIR = Path(__file__).parent / "mappings"
TYPES = ("text", "timestamp", "date", "number", "integer", "boolean")
BOOLEAN_TRUE = ("1", "true", "yes", "y")
BOOLEAN_FALSE = ("0", "false", "no", "n")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # raw column
    sources: tuple[str, ...]  # source column(s); several are joined with ':' (composite keys)
    type: str = "text"
    required: bool = False


@dataclass(frozen=True)
class ObjectMapping:
    object_name: str
    table: str
    key: str
    columns: tuple[ColumnSpec, ...]
    file_patterns: tuple[str, ...] = field(default=())
    # Groups of columns of which each record must fill exactly one (e.g. points or score).
    exactly_one_of: tuple[tuple[str, ...], ...] = field(default=())

    def matches(self, file_name: str) -> bool:
        name = file_name.lower()
        return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in self.file_patterns)

    @property
    def source_columns(self) -> set[str]:
        return {source for column in self.columns for source in column.sources}


@dataclass(frozen=True)
class Mapping:
    name: str
    path: Path
    objects: tuple[ObjectMapping, ...]

    def object_for(self, file_name: str) -> ObjectMapping | None:
        for obj in self.objects:
            if obj.matches(file_name):
                return obj
        return None

    @property
    def tables(self) -> list[str]:
        return sorted({obj.table for obj in self.objects})


def resolve_mapping_path(name_or_path: str) -> Path:
    """`salesforce` -> the bundled file; anything with a slash or .yml is a path."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".yml", ".yaml") or "/" in name_or_path:
        return candidate
    bundled = MAPPINGS_DIR / f"{name_or_path}.yml"
    if not bundled.exists():
        known = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yml")))
        raise MappingError(f"no bundled mapping named {name_or_path!r} (known: {known})")
    return bundled


def load_mapping(name_or_path: str) -> Mapping:
    path = resolve_mapping_path(name_or_path)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise MappingError(f"{path}: cannot read mapping: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("objects"), dict):
        raise MappingError(f"{path}: a mapping needs a top-level 'objects:' dictionary")
    objects = tuple(
        _parse_object(path, object_name, spec) for object_name, spec in document["objects"].items()
    )
    return Mapping(name=str(document.get("name") or path.stem), path=path, objects=objects)


def _parse_object(path: Path, object_name: str, spec: object) -> ObjectMapping:
    where = f"{path}: object {object_name}"
    if not isinstance(spec, dict):
        raise MappingError(f"{where}: expected a dictionary with table, key and columns")
    for required in ("table", "key", "columns"):
        if required not in spec:
            raise MappingError(f"{where}: missing '{required}'")
    table = str(spec["table"])
    if not table.replace("_", "").isalnum():
        raise MappingError(f"{where}: table name {table!r} must be letters, digits and _")
    columns = tuple(_parse_column(where, name, column) for name, column in spec["columns"].items())
    names = [column.name for column in columns]
    if spec["key"] not in names:
        raise MappingError(f"{where}: key {spec['key']!r} is not one of its columns")
    exactly_one_of = []
    for group in spec.get("exactly_one_of") or []:
        if not isinstance(group, list) or len(group) < 2 or not set(map(str, group)) <= set(names):
            raise MappingError(
                f"{where}: exactly_one_of entries must be lists of two or more of its columns, got {group!r}"
            )
        exactly_one_of.append(tuple(str(name) for name in group))
    patterns = spec.get("files") or [
        f"{object_name}{suffix}{ext}"
        for suffix in ("", "_*", "-*", ".*")
        for ext in (".csv", ".csv.gz")
    ]
    return ObjectMapping(
        object_name=object_name, table=table, key=str(spec["key"]), columns=columns,
        file_patterns=tuple(str(p) for p in patterns), exactly_one_of=tuple(exactly_one_of),
    )


def _parse_column(where: str, name: str, spec: object) -> ColumnSpec:
    if not str(name).replace("_", "").isalnum() or str(name).startswith("_"):
        raise MappingError(f"{where}: column name {name!r} must be letters, digits and _")
    if isinstance(spec, str):
        return ColumnSpec(name=name, sources=(spec,))
    if not isinstance(spec, dict) or "source" not in spec:
        raise MappingError(f"{where}: column {name}: expected a source column name or {{source: ...}}")
    sources = spec["source"] if isinstance(spec["source"], list) else [spec["source"]]
    column_type = spec.get("type", "text")
    if column_type not in TYPES:
        raise MappingError(f"{where}: column {name}: unknown type {column_type!r} (use one of {TYPES})")
    return ColumnSpec(
        name=name, sources=tuple(str(s) for s in sources), type=column_type,
        required=bool(spec.get("required", False)),
    )
