"""Property tests for the mapping features (constant, default and `default: delivery`, value maps
with and without `values_default`, date `format`s, `case` folding) through the real CSV loader:
the two example mappings, and a mapping written here that uses every feature, on exports with a
byte-order mark, quoted and padded header names and a comma ending every line.

Every generated export must reconcile on physical lines, quarantine each bad record with the
reasons naming its column and value, and load exactly the rows this module expects. The
expectation is computed from the mapping's YAML by the rules of docs/crm_mapping.md, a few lines
below, never from the loader's own code.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from unittest import mock

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadscore.ingest import sources
from leadscore.ingest.mapping import MAPPINGS_DIR, load_mapping
from tests.test_bad_input_properties import Outcome, assert_reconciles, bounded, ingest_bytes

EXAMPLES = MAPPINGS_DIR / "examples"

# A mapping that uses every feature once (written to a file by the tests that load with it).
EVERY_FEATURE_YAML = """\
name: every_feature
objects:
  People:
    table: crm_leads
    key: lead_id
    files: ["people*.csv"]
    columns:
      lead_id: {source: Person Id, required: true}
      company: Company Name
      lead_source: {source: Lead Source, case: lower}
      rating: {source: Rating, default: Warm}
      country: {default: India}
      status: {constant: Imported}
      has_opted_out_of_email: {source: Email Opt Out, type: boolean, case: lower,
                               values: {'Yes': true, 'No': false}, values_default: false}
      do_not_call: {source: Do Not Call, type: boolean, values: {'Y': true, 'N': false}}
      industry: {source: Sector, case: upper, values: {Tech: Technology, Fin: Finance}, values_default: ~}
      annual_revenue: {source: Revenue, type: number, default: 0}
      created_at: {source: Created, type: timestamp, format: ['%d.%m.%Y %H:%M', '%d.%m.%Y'], default: delivery}
      converted_date: {source: Converted On, type: date, format: '%d/%m/%Y', default: delivery}
      last_modified_at: {type: timestamp, default: delivery}
"""

# Export folders and the delivery time each one names (docs/crm_mapping.md), in UTC.
DELIVERIES = {
    "2026-06-30": datetime(2026, 6, 30, tzinfo=UTC),
    "2026-07-01T0815": datetime(2026, 7, 1, 8, 15, tzinfo=UTC),
    "2025-12-31_23-59-30": datetime(2025, 12, 31, 23, 59, 30, tzinfo=UTC),
}


# --------------------------------------------------------------------------- the rules, read from YAML

@dataclass(frozen=True)
class Rule:
    """One raw column of a mapping, as this test reads the YAML."""

    name: str
    source: str | None = None
    type: str = "text"
    required: bool = False
    constant: str | None = None
    default: str | None = None  # "delivery": the file's delivery time
    values: dict[str, str | None] | None = None  # folded, trimmed source text -> value
    unmapped: tuple[str | None] | None = None  # (values_default,); None: unmapped is quarantined
    formats: tuple[str, ...] = ()
    case: str | None = None


@dataclass(frozen=True)
class Model:
    mapping: str  # mapping name or path, for the loader
    file_name: str  # a file name the mapping's object matches
    table: str
    key: str
    rules: tuple[Rule, ...]
    extras: tuple[str, ...]  # columns the mapping does not name (custom fields)

    @property
    def sources(self) -> list[str]:
        return list(dict.fromkeys(rule.source for rule in self.rules if rule.source))

    def reading(self, source: str) -> list[Rule]:
        return [rule for rule in self.rules if rule.source == source]


FOLD = {"lower": str.lower, "upper": str.upper, None: str}


def as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def read_model(text: str, object_name: str, mapping: str, file_name: str, extras: tuple[str, ...] = ()) -> Model:
    spec = yaml.safe_load(text)["objects"][object_name]
    rules = []
    for name, column in spec["columns"].items():
        if isinstance(column, str):
            rules.append(Rule(name, source=column))
            continue
        case, formats = column.get("case"), column.get("format") or []
        rules.append(Rule(
            name, source=column.get("source"), type=column.get("type", "text"),
            required=bool(column.get("required")), constant=as_text(column.get("constant")),
            default=as_text(column.get("default")), case=case,
            values=None if "values" not in column else {
                FOLD[case](str(key).strip()): as_text(value) for key, value in column["values"].items()},
            unmapped=(as_text(column["values_default"]),) if "values_default" in column else None,
            formats=tuple(formats if isinstance(formats, list) else [formats]),
        ))
    return Model(mapping, file_name, spec["table"], spec["key"], tuple(rules), extras)


def example_model(name: str, object_name: str, file_name: str, extras: tuple[str, ...]) -> Model:
    path = EXAMPLES / f"{name}.yml"
    return read_model(path.read_text(encoding="utf-8"), object_name, str(path), file_name, extras)


DEALS = example_model("deals", "deals", "deals.csv", ("region",))
FLAT_LEADS = example_model("flat_leads", "Leads", "leads_export.csv", ("Lead Number", "Converted", "TotalVisits"))
SALESFORCE_LEADS = read_model((MAPPINGS_DIR / "salesforce.yml").read_text(encoding="utf-8"), "Lead", "salesforce",
                              "Lead.csv", ("Purchase_Timeline__c",))
# Its mapping path is a file the tests write to tmp_path.
EVERY_FEATURE = read_model(EVERY_FEATURE_YAML, "People", "every_feature.yml", "people.csv", ("Notes",))


# Typed values without a format: which ones parse is decided here, by the pool they come from.
GOOD = {
    "timestamp": ["2024-01-23T02:21:49.000+0000", "2026-06-01T10:00:00Z", "2026-06-01 10:00:00+02:00", "2026-06-01"],
    "date": ["2026-06-01", "1999-12-31"],
    "number": ["0", "1094", "-12.5", "1e3", "26780"],
    "integer": ["0", "12", "-7"],
    "boolean": ["true", "FALSE", "1", "0", "yes", "N"],
}
BAD = {
    "timestamp": ["yesterday", "2026-02-31", "31/12/2026", "12:00", " "],
    "date": ["2026-02-30", "June 1st", "01/06/2026", " "],
    "number": ["lots", "1,000", "12abc", " "],
    "integer": ["2.5", "ten", " "],
    "boolean": ["maybe", "2", " "],
}


def delivered_as(rule: Rule, delivered: datetime) -> str:
    """`default: delivery` as the docs give it: ISO text in UTC, the date alone for a date column."""
    return f"{delivered:%Y-%m-%d}" if rule.type == "date" else f"{delivered:%Y-%m-%dT%H:%M:%S}+00:00"


def parse_date(text: str, rule: Rule) -> str | None:
    for form in rule.formats:
        try:
            moment = datetime.strptime(text, form)
        except ValueError:
            continue
        return moment.date().isoformat() if rule.type == "date" else moment.isoformat(sep=" ")
    return None


def expect(model: Model, cells: dict[str, str], delivered: datetime) -> tuple[dict[str, str | None], list[str]]:
    """(raw column -> value, quarantine reasons) of one record of the header's width: `cells`
    holds the delivered text of each source column in the file (absent columns are missing).

    The order of docs/crm_mapping.md: case, then values or format, then default. An empty cell
    is empty; a blank one (spaces) is a value, which value maps and formats read trimmed."""
    row: dict[str, str | None] = {}
    reasons: list[str] = []
    for rule in model.rules:
        if rule.constant is not None:
            row[rule.name] = rule.constant
            continue
        text = cells.get(rule.source) or None
        if rule.required and (text is None or not text.strip(" ")):
            reasons.append(f"missing {'key' if rule.name == model.key else 'required value'}: {rule.source}")
        if text is not None:
            text = FOLD[rule.case](text)
        value = text
        if text is not None and rule.values is not None:
            trimmed = text.strip(" ")
            if trimmed in rule.values:
                value = rule.values[trimmed]
            elif rule.unmapped is not None:
                value = rule.unmapped[0]
            else:
                value = None
                reasons.append(f'unmapped value: {rule.source} "{trimmed}" is not in the values map')
        elif text is not None and rule.formats:
            value = parse_date(text.strip(" "), rule)
            if value is None:
                reasons.append(f'bad format: {rule.source} "{text.strip(" ")}" does not match '
                               + " or ".join(rule.formats))
        if value is None and rule.default is not None:
            value = delivered_as(rule, delivered) if rule.default == "delivery" else rule.default
        if not rule.formats and value in BAD.get(rule.type, ()):
            reasons.append(f"bad type: {rule.source} is not a {rule.type}")
        row[rule.name] = value
    return row, reasons


# --------------------------------------------------------------------------- generated exports

WORD = st.from_regex(r"[A-Za-z][A-Za-z ,.'&-]{0,9}", fullmatch=True)
# Free text: quoted fields (commas, quotes, newlines) always start with a letter, so a quote left
# open on a broken line never closes into a well-formed record.
FREE_TEXT = st.one_of(st.just(""), WORD, st.sampled_from(["Lucía Ferrer", "Zürich", 'Sable "&" Finch', "Select"]))
CATEGORIES = ["Google", "Direct Traffic", "Olark Chat", "Référence", "organic search", "Welingak Website"]
UNMAPPED = ["Negotiating", "Maybe", "n/a", "Ja", " ", "Won!"]


def recased(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.lower(), text.upper(), text.title(), text.swapcase()])


def padded(texts: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(st.sampled_from(["", "", " ", "  "]), texts, st.sampled_from(["", "", " "])).map("".join)


@st.composite
def dates(draw, rule: Rule, in_format: bool) -> str:
    day = draw(st.dates(date(1990, 1, 1), date(2035, 12, 31)))
    if in_format:
        moment = datetime.combine(day, datetime.min.time()).replace(hour=draw(st.integers(0, 23)),
                                                                   minute=draw(st.integers(0, 59)))
        return draw(padded(st.just(moment.strftime(draw(st.sampled_from(rule.formats))))))
    # ISO, month first (which may still read as a date), two-digit year, other separators, no such day.
    return draw(st.sampled_from([day.isoformat(), f"{day:%m/%d/%Y}", f"{day:%d/%m/%y}", f"{day:%d-%m-%Y}",
                                 "31/02/2026", "29.02.2025", "June 1st", "25.12.2026 24:00", " "]))


def cells_for(model: Model, source: str) -> tuple[st.SearchStrategy[str], st.SearchStrategy[str]]:
    """(cells that load, cells that send their record to quarantine) for a source column, given
    every rule that reads it. Which is which is only a guess for a few (a date month first, a
    key in another case): the expectation decides."""
    rules = model.reading(source)
    mapped = [rule for rule in rules if rule.values is not None]
    if mapped:
        keys = st.sampled_from(sorted(mapped[0].values))
        return (st.one_of(st.just(""), padded(keys.flatmap(recased) if mapped[0].case else keys)),
                st.one_of(padded(keys.flatmap(recased)), st.sampled_from(UNMAPPED)))
    dated = [rule for rule in rules if rule.formats]
    if dated:
        return st.one_of(st.just(""), dates(dated[0], True)), dates(dated[0], False)
    (rule, *_) = rules
    empty = [] if rule.required else [""]
    if rule.required and rule.type == "text":
        return st.from_regex(r"[A-Z0-9]{1,8}", fullmatch=True), st.sampled_from(["", " "])
    if rule.type != "text":
        return st.sampled_from(empty + GOOD[rule.type]), st.sampled_from(BAD[rule.type])
    if rule.case:
        return st.one_of(st.just(""), padded(st.sampled_from(CATEGORIES).flatmap(recased))), st.nothing()
    return FREE_TEXT, st.nothing()


def is_free_text(model: Model, source: str) -> bool:
    """A column of plain text: any value loads as delivered."""
    return all(rule.type == "text" and not (rule.case or rule.required or rule.values or rule.formats)
               for rule in model.reading(source))


@dataclass
class Export:
    data: bytes
    folder: str
    # (first physical line, lines spanned, source cells or None for a malformed line, value in
    # the unnamed trailing column, the reason a malformed line must be quarantined with)
    entries: list[tuple[int, int, dict[str, str] | None, str, str]] = field(default_factory=list)
    header_width: int = 0
    blank_lines: int = 0


@st.composite
def exports(draw, model: Model, valid_only: bool = False, decorated: bool = False, broken: bool | None = None
            ) -> Export:
    """A CRM export for `model`: valid records, unmapped values, empty and blank cells, dates in
    and out of the format, mixed case, records with a field too few or too many, blank lines
    and a line whose quote is never closed; the header maybe with a byte-order mark, quoted and
    padded names and a comma ending every line (always, when `decorated`). `valid_only`: every
    record loads; `broken`: whether there is a line with a quote left open (None: sometimes)."""
    decorate = st.just(True) if decorated else st.booleans()
    optional = [source for source in model.sources if not any(rule.required for rule in model.reading(source))]
    dropped = set(draw(st.lists(st.sampled_from(optional), max_size=2))) if optional else set()
    header = draw(st.permutations([s for s in model.sources if s not in dropped] + list(model.extras)))
    bom, trailing = draw(decorate), draw(decorate)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    names = []
    for name in header:
        name = " " + name + "  " if draw(decorate) else name
        names.append('"' + name + '"' if draw(decorate) else name)
    text = io.StringIO()
    text.write(",".join(names) + ("," if trailing else "") + ending)
    writer = csv.writer(text, lineterminator=ending)
    pools = {name: cells_for(model, name) if name in model.sources else (FREE_TEXT, st.nothing()) for name in header}
    export = Export(b"", draw(st.sampled_from(sorted(DELIVERIES))), header_width=len(header) + trailing)

    def line_now() -> int:
        return text.getvalue().count("\n") + 1

    count = draw(st.integers(1 if valid_only else 0, 7))
    broken_at = draw(st.integers(0, count)) if broken or (broken is None and draw(st.integers(0, 3)) == 0) else -1
    for index in range(count + 1):
        if index == broken_at:
            fields = [draw(WORD) for _ in range(export.header_width)]
            fields[draw(st.integers(0, len(fields) - 1))] = '"' + draw(WORD)  # never closed
            first = line_now()
            text.write(",".join(fields) + ending)
            export.entries.append((first, 1, None, "", f"malformed record: the quote opened on line {first} "
                                                        "is not closed"))
        if index == count:
            break
        if not valid_only and draw(st.integers(0, 9)) == 3:
            text.write(ending)
            export.blank_lines += 1
        # Most records are clean; in the others each cell may be bad.
        dirty = not valid_only and draw(st.booleans())
        cells = {name: draw(pools[name][1] if dirty and draw(st.integers(0, 3)) == 2 and not pools[name][1].is_empty
                            else pools[name][0]) for name in header}
        free = [name for name in header if is_free_text(model, name)]
        if free and draw(st.integers(0, 4)) == 0:
            cells[draw(st.sampled_from(free))] = draw(WORD) + ending + draw(WORD)  # a value over two lines
        fields = [cells[name] for name in header]
        unnamed = ""
        if trailing:
            unnamed = draw(WORD) if not valid_only and draw(st.integers(0, 9)) == 3 else ""
            fields.append(unnamed)
        shape = 0 if valid_only else draw(st.integers(0, 9))
        reason = ""
        if shape in (4, 5):
            # A field too few or too many: on one line (over several it reads as a quote left open).
            fields = [value.replace("\r\n", " ").replace("\n", " ") for value in fields]
            if shape == 4:
                fields.pop()
                reason = "malformed record: fewer columns than the header"
            else:
                fields.append(draw(WORD))
                reason = "malformed record: more columns than the header"
        first = line_now()
        writer.writerow(fields)
        export.entries.append((first, line_now() - first, None if reason else cells, unnamed, reason))
    body = text.getvalue()
    if export.entries and draw(st.booleans()):
        body = body[: -len(ending)]  # no newline at the end of the file
    export.data = (b"\xef\xbb\xbf" if bom else b"") + body.encode("utf-8")
    return export


# --------------------------------------------------------------------------- the properties

# Reading a mapping checks each of its literals with DuckDB: most of an example's time when done
# for every file. The mapping files do not change during a test, so one reading each will do.
cached_mapping = functools.cache(load_mapping)


def load(model: Model, export: Export, mapping: str | None = None) -> tuple[Outcome, str]:
    relative = f"{export.folder}/{model.file_name}"
    columns = [f'"{rule.name}"' for rule in model.rules]
    with mock.patch.object(sources, "load_mapping", cached_mapping):
        outcome = ingest_bytes("crm", relative, export.data, model.table, columns, mapping or model.mapping)
    return outcome, f"crm/{relative}"


def physical_lines_after_header(data: bytes) -> int:
    body = data.split(b"\n", 1)[1] if b"\n" in data else b""
    return body.count(b"\n") + (body != b"" and not body.endswith(b"\n"))


def check_export(model: Model, export: Export, mapping: str | None = None) -> None:
    outcome, source_file = load(model, export, mapping)

    assert_reconciles(outcome, source_file)
    ((read, loaded, quarantined, status, message),) = outcome.manifest
    assert status != "rejected", message
    delivered = DELIVERIES[export.folder]
    rows: dict[int, tuple] = {}
    reasons: dict[int, list[str] | str] = {}
    spans = {"loaded": 0, "quarantined": 0}
    for first, span, cells, unnamed, malformed in export.entries:
        if cells is None:
            reasons[first] = malformed
            spans["quarantined"] += span
            continue
        row, why = expect(model, cells, delivered)
        if unnamed:
            why.append(f"a value in column {export.header_width}, which has no name in the header")
        if why:
            reasons[first] = why
        else:
            rows[first] = tuple(row[rule.name] for rule in model.rules)
        spans["quarantined" if why else "loaded"] += span
    # Every physical line after the header: in a loaded record, a quarantined one, or empty.
    assert outcome.lines == (physical_lines_after_header(export.data), spans["loaded"], spans["quarantined"],
                             export.blank_lines)
    assert (read, loaded, quarantined) == (len(export.entries), len(rows), len(reasons))
    assert {row[0]: tuple(row[1:]) for row in outcome.rows} == rows
    got = {line: reason for _, line, reason in outcome.quarantine}
    assert sorted(got) == sorted(reasons)
    for line, expected in reasons.items():
        if isinstance(expected, str):
            assert got[line].startswith(expected), (line, got[line])
        else:
            # Each reason names its column (and the value at fault); a record may have several.
            assert set(got[line].split("; ")) == set(expected), (line, got[line])


def every_feature_mapping(folder: Path) -> str:
    path = folder / "every_feature.yml"
    path.write_text(EVERY_FEATURE_YAML, encoding="utf-8")
    return str(path)


# Hypothesis reuses tmp_path across the examples of one test: it only holds the mapping file.
def with_tmp_path(examples: int) -> settings:
    parent = bounded(examples)
    return settings(parent, suppress_health_check=[*parent.suppress_health_check,
                                                   HealthCheck.function_scoped_fixture])


@bounded(10)
@given(export=exports(DEALS))
def test_deals_exports_load_stages_as_booleans_and_default_to_the_delivery_time(export):
    check_export(DEALS, export)


@bounded(10)
@given(export=exports(FLAT_LEADS))
def test_flat_lead_exports_load_yes_no_flags_and_fold_the_lead_source(export):
    check_export(FLAT_LEADS, export)


@with_tmp_path(20)
@given(export=exports(EVERY_FEATURE, decorated=True))
def test_every_mapping_feature_on_an_export_with_a_bom_quoted_padded_names_and_trailing_commas(tmp_path, export):
    check_export(EVERY_FEATURE, export, every_feature_mapping(tmp_path))


@with_tmp_path(12)
@given(model=st.sampled_from([SALESFORCE_LEADS, DEALS, FLAT_LEADS, EVERY_FEATURE]), data=st.data())
def test_a_quote_left_open_in_a_crm_record_costs_its_own_line_and_no_valid_record(tmp_path, model, data):
    export = data.draw(exports(model, valid_only=True, broken=True))
    outcome, source_file = load(model, export, every_feature_mapping(tmp_path) if model is EVERY_FEATURE else None)

    assert_reconciles(outcome, source_file)
    ((broken_line, *_),) = [entry for entry in export.entries if entry[2] is None]
    assert [(line, reason.split(" (")[0]) for _, line, reason in outcome.quarantine] == [
        (broken_line, f"malformed record: the quote opened on line {broken_line} is not closed")]
    lines_read = physical_lines_after_header(export.data)
    assert outcome.lines == (lines_read, lines_read - 1, 1, 0)
    delivered = DELIVERIES[export.folder]
    expected = []
    for first, _, cells, _, _ in export.entries:
        if cells is not None:
            row, reasons = expect(model, cells, delivered)
            assert reasons == []  # the generator made valid records only
            expected.append((first, *(row[rule.name] for rule in model.rules)))
    assert outcome.rows == expected


def test_an_empty_cell_does_not_take_values_default_and_a_two_digit_year_does_not_match_four(tmp_path):
    # Two cases the properties above found: an empty Yes/No cell took values_default (the docs:
    # it stays empty, or takes the default), and DuckDB's %Y read 07/07/17 as the year 17.
    data = b"Person Id,Email Opt Out,Converted On\nP1,,07/07/2017\nP2,maybe,07/07/17\n"
    outcome = ingest_bytes("crm", "2026-06-30/people.csv", data, "crm_leads",
                           ['"has_opted_out_of_email"', '"converted_date"'], every_feature_mapping(tmp_path))
    assert outcome.rows == [(2, None, "2017-07-07")]
    assert [(line, reason) for _, line, reason in outcome.quarantine] == [
        (3, 'bad format: Converted On "07/07/17" does not match %d/%m/%Y')]
