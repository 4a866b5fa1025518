"""Column mappings: how a CSV family (a CRM export object, form submissions, signals) maps onto
a raw table. Mappings are YAML files so users can point the pipeline at their own exports."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import yaml

from leadscore.ingest.lines import ident, sql_literal

MAPPINGS_DIR = Path(__file__).parent / "mappings"
TYPES = ("text", "timestamp", "date", "number", "integer", "boolean")
BOOLEAN_TRUE = ("1", "true", "yes", "y")
BOOLEAN_FALSE = ("0", "false", "no", "n")
COLUMN_KEYS = ("source", "type", "required", "constant", "default", "values", "values_default", "format", "case")
CASES = ("lower", "upper", "title")
# `default: delivery` on a timestamp or date column: the time the file was delivered.
DELIVERY = "delivery"


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # raw column
    sources: tuple[str, ...]  # source column(s); several are joined with ':' (composite keys)
    type: str = "text"
    required: bool = False
    constant: str | None = None  # the value of every row; no source column
    default: str | None = None  # when the source is empty or absent; DELIVERY until bound to a file
    values: tuple[tuple[str, str | None], ...] = ()  # source text (after `case`) -> value
    # Unmapped values become values_default; without one the row is quarantined.
    values_default: str | None = None
    quarantine_unmapped: bool = True
    formats: tuple[str, ...] = ()  # strptime formats of a date or timestamp column
    case: str | None = None  # lower, upper or title: folds categorical text


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

    def with_delivery(self, delivered_at: datetime) -> Mapping:
        """The mapping for one file: `default: delivery` becomes the file's delivery time."""
        def bind(column: ColumnSpec) -> ColumnSpec:
            if column.default != DELIVERY:
                return column
            moment = delivered_at.astimezone(UTC)
            return replace(column, default=moment.date().isoformat() if column.type == "date" else moment.isoformat())

        objects = tuple(replace(obj, columns=tuple(bind(c) for c in obj.columns)) for obj in self.objects)
        return replace(self, objects=objects)


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
    where = f"{where}: column {name}"
    if not isinstance(spec, dict) or not ({"source", "constant", "default"} & set(spec)):
        raise MappingError(
            f"{where}: expected a source column name or {{source: ...}} (or {{constant: ...}}, {{default: ...}})"
        )
    unknown = sorted(str(key) for key in spec if key not in COLUMN_KEYS)
    if unknown:
        raise MappingError(f"{where}: unknown key(s) {', '.join(unknown)} (use: {', '.join(COLUMN_KEYS)})")
    column_type = spec.get("type", "text")
    if column_type not in TYPES:
        raise MappingError(f"{where}: unknown type {column_type!r} (use one of {TYPES})")
    source = spec.get("source")
    sources = () if source is None else tuple(str(s) for s in (source if isinstance(source, list) else [source]))
    required = bool(spec.get("required", False))
    if "constant" in spec:
        clashing = sorted({"source", "default", "values", "values_default", "format", "case"} & set(spec))
        clashing += ["required"] if required else []
        if clashing:
            raise MappingError(f"{where}: a constant reads no source column; drop {', '.join(clashing)}")
    if required and "default" in spec:
        raise MappingError(f"{where}: a default fills empty values, so the column cannot be required as well")
    case = spec.get("case")
    if case is not None and case not in CASES:
        raise MappingError(f"{where}: unknown case {case!r} (use one of {CASES})")
    if "format" in spec and "values" in spec:
        raise MappingError(f"{where}: use either a values map or a format, not both")
    formats = _parse_formats(where, column_type, spec.get("format"))
    values, values_default = _parse_values(where, column_type, spec, case)
    constant = _literal_of(where, "constant", column_type, spec["constant"]) if "constant" in spec else None
    default = None
    if "default" in spec:
        if spec["default"] == DELIVERY:
            if column_type not in ("timestamp", "date"):
                raise MappingError(f"{where}: default: delivery is for timestamp or date columns, not {column_type}")
            default = DELIVERY
        else:
            default = _literal_of(where, "default", column_type, spec["default"])
    return ColumnSpec(
        name=name, sources=sources, type=column_type, required=required, constant=constant, default=default,
        values=values, values_default=values_default, quarantine_unmapped="values_default" not in spec,
        formats=formats, case=case,
    )


def _parse_formats(where: str, column_type: str, spec: object) -> tuple[str, ...]:
    if spec is None:
        return ()
    if column_type not in ("timestamp", "date"):
        raise MappingError(f"{where}: format is for timestamp or date columns, not {column_type}")
    formats = spec if isinstance(spec, list) else [spec]
    for text in formats:
        if not isinstance(text, str) or "%" not in text:
            raise MappingError(f"{where}: format {text!r} is not a strptime format such as '%d/%m/%Y'")
        try:
            # DuckDB parses the values, so it judges the format.
            _duckdb_value("select try_strptime('', ?)", text)
        except duckdb.Error as exc:
            raise MappingError(f"{where}: bad format {text!r}: {exc}") from exc
    return tuple(formats)


def _parse_values(
    where: str, column_type: str, spec: dict, case: str | None
) -> tuple[tuple[tuple[str, str | None], ...], str | None]:
    if "values" not in spec:
        if "values_default" in spec:
            raise MappingError(f"{where}: values_default needs a values map")
        return (), None
    values = spec["values"]
    if not isinstance(values, dict) or not values:
        raise MappingError(f"{where}: values must be a mapping of source text to value, got {values!r}")
    pairs = []
    for source_text, value in values.items():
        if isinstance(source_text, bool) or source_text is None:
            # YAML reads bare Yes/No/true/null keys as booleans or null: the source text is lost.
            raise MappingError(
                f"{where}: values key {source_text!r} must be quoted text, e.g. 'Yes': true or 'No': false"
            )
        pairs.append((_fold(str(source_text).strip(), case), _literal_of(where, "values", column_type, value)))
    folded = [text for text, _ in pairs]
    if len(set(folded)) < len(folded):
        raise MappingError(f"{where}: values keys collide once folded to {case} case: {sorted(values)}")
    default = _literal_of(where, "values_default", column_type, spec.get("values_default"))
    return tuple(pairs), default


def _fold(text: str, case: str | None) -> str:
    return {"lower": str.lower, "upper": str.upper, "title": _title, None: str}[case](text)


def _title(text: str) -> str:
    """Like the SQL of `case: title`: first letter of each space-separated word upper."""
    return " ".join(word[:1].upper() + word[1:] for word in text.lower().split(" "))


def _literal_of(where: str, key: str, column_type: str, value: object) -> str | None:
    """A YAML value as the raw text a column holds, checked against the column's type."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (datetime, date)):
        text = value.isoformat()
    elif isinstance(value, (str, int, float)):
        text = str(value)
    else:
        raise MappingError(f"{where}: {key} must be a single value, got {value!r}")
    invalid = invalid_value_sql(column_type, "cast($1 as varchar)")
    if invalid and _duckdb_value(f"select {invalid}", text):
        raise MappingError(f"{where}: {key} {text!r} is not a {column_type}")
    return text


def _duckdb_value(sql: str, parameter: str) -> object:
    with duckdb.connect() as con:
        return con.execute(sql, [parameter]).fetchone()[0]


# The SQL that applies a column's mapping to a record, for the CSV loader.

_CASE_SQL = {
    "lower": "lower({})",
    "upper": "upper({})",
    "title": "array_to_string(list_transform(string_split(lower({}), ' '), lambda w: upper(w[1]) || w[2:]), ' ')",
}


def invalid_value_sql(column_type: str, value: str) -> str | None:
    """A SQL condition true when a non-empty value does not parse as `column_type`."""
    if column_type == "timestamp":
        return f"try_cast({value} as timestamptz) is null"
    if column_type == "date":
        return f"try_cast({value} as date) is null"
    if column_type == "number":
        return f"try_cast({value} as double) is null"
    if column_type == "integer":
        return f"coalesce(try_cast({value} as double) <> floor(try_cast({value} as double)), true)"
    if column_type == "boolean":
        allowed = ", ".join(sql_literal(v) for v in BOOLEAN_TRUE + BOOLEAN_FALSE)
        return f"lower(trim({value})) not in ({allowed})"
    return None


def source_sql(column: ColumnSpec, header: list[str]) -> str:
    """The source text as delivered: empty strings are null; composite sources joined by ':'."""
    present = [ident(source) for source in column.sources if source in header]
    if not present:
        return "cast(null as varchar)"
    if len(present) == 1:
        return f"nullif({present[0]}, '')"
    return f"nullif(concat_ws(':', {', '.join(present)}), '')"


def _folded_sql(column: ColumnSpec, header: list[str]) -> str:
    text = source_sql(column, header)
    return _CASE_SQL[column.case].format(text) if column.case else text


def _formats_sql(column: ColumnSpec) -> str:
    return "[" + ", ".join(sql_literal(f) for f in column.formats) + "]"


def _parsed_sql(column: ColumnSpec, text: str) -> str:
    """The text parsed by the column's formats, null when none matches."""
    parsed = f"try_strptime(trim({text}), {_formats_sql(column)})"
    # DuckDB's %Y also reads a two-digit year: 07/07/17 as the year 17. Such a year does not match.
    return f"(case when year({parsed}) >= 1000 then {parsed} end)"


def value_sql(column: ColumnSpec, header: list[str]) -> str:
    """The raw text a mapped column gets: the source folded (`case`), mapped (`values`), parsed
    (`format`, written back as ISO text), else the `default`; or the `constant`."""
    if column.constant is not None:
        return sql_literal(column.constant)
    if column.default == DELIVERY:
        raise ValueError(f"column {column.name}: bind the delivery time first (Mapping.with_delivery)")
    value = _folded_sql(column, header)
    if column.values:
        # Unmapped values are quarantined (column_checks) unless there is a values_default. An empty
        # source is not unmapped: it stays empty (or takes the default), so it never gets values_default.
        otherwise = "null" if column.quarantine_unmapped else (
            f"case when {value} is not null then {sql_literal(column.values_default)} end")
        branches = " ".join(f"when {sql_literal(text)} then {sql_literal(out)}" for text, out in column.values)
        value = f"(case trim({value}) {branches} else {otherwise} end)"
    if column.formats:
        parsed = _parsed_sql(column, value)
        value = f"cast(cast({parsed} as date) as varchar)" if column.type == "date" else f"cast({parsed} as varchar)"
    if column.default is not None:
        value = f"coalesce({value}, {sql_literal(column.default)})"
    return value


def _reason_naming_value(before: str, value: str, after: str) -> str:
    opening, closing = sql_literal(f'{before} "'), sql_literal(f'" {after}')
    return f"concat({opening}, trim({value}), {closing})"


def column_checks(column: ColumnSpec, header: list[str], is_key: bool = False) -> list[tuple[str, str]]:
    """(SQL condition, SQL reason) pairs: a record meeting a condition is quarantined for that
    reason, which names the source column (and the value when it is the value at fault)."""
    checks = []
    source = source_sql(column, header)
    sources = "+".join(column.sources)
    if column.required:
        label = "missing key" if is_key else "missing required value"
        checks.append((f"{source} is null or trim({source}) = ''", sql_literal(f"{label}: {sources}")))
    folded = _folded_sql(column, header)
    if column.values and column.quarantine_unmapped:
        known = ", ".join(sql_literal(text) for text, _ in column.values)
        checks.append((
            f"{folded} is not null and trim({folded}) not in ({known})",
            _reason_naming_value(f"unmapped value: {sources}", folded, "is not in the values map"),
        ))
    if column.formats:
        checks.append((
            f"{folded} is not null and {_parsed_sql(column, folded)} is null",
            _reason_naming_value(f"bad format: {sources}", folded, f"does not match {' or '.join(column.formats)}"),
        ))
    elif column.constant is None:
        value = value_sql(column, header)
        invalid = invalid_value_sql(column.type, value)
        if invalid:
            checks.append((f"{value} is not null and {invalid}",
                           sql_literal(f"bad type: {sources} is not a {column.type}")))
    return checks
