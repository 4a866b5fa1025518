"""What a headless run shows in the terminal while it works: one line when a step starts and one
when it ends (rows, seconds), and dbt's own progress lines, while the full dbt output goes to the
run log.

Two pieces: a Dagster logger that turns step events into lines (named in the run config of the
headless run only, so `dagster dev` runs are unchanged), and a stream that stands in for stdout
during the run, writing everything to the log file and echoing dbt's progress to the terminal.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import TextIO

import dagster as dg

# Colour codes dbt writes into its lines; stripped from the log file, and from the terminal
# when it is not a terminal (a CI log, a pipe).
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
# dbt's result line of one node: "12 of 591 OK created sql table model marts.fct_lead_scores ... [OK in 0.52s]".
DBT_RESULT = re.compile(r"^\s*\d+ of \d+ (OK|PASS|WARN|FAIL|ERROR|SKIP)\b")
# Tests are most of dbt's nodes: only the ones that did not pass reach the terminal.
DBT_TEST_PASSED = re.compile(r"^\s*\d+ of \d+ PASS\b")
DBT_TOTALS = re.compile(r"^\s*(Finished running|Done\. PASS=|Completed with|Failure in|Warning in)")


class ProgressOutput:
    """Where the run's text goes: the terminal (unless quiet), and the run log when one is open,
    so the log tells the whole run. Lines start with two spaces so they read as the run's body."""

    def __init__(self, terminal: TextIO, quiet: bool = False, log: TextIO | None = None):
        self.terminal = terminal
        self.quiet = quiet
        self.colour = terminal.isatty()
        self.log = log

    def line(self, text: str, to_log: bool = True) -> None:
        if self.log is not None and to_log:
            self.log.write(ANSI_ESCAPE.sub("", text) + "\n")
        if self.quiet:
            return
        if not self.colour:
            text = ANSI_ESCAPE.sub("", text)
        self.terminal.write(f"  {text}\n")
        self.terminal.flush()


class DbtOutputTee:
    """Stands in for sys.stdout while dbt runs inside the Dagster step: every line goes to the
    run log without colour codes; dbt's model, seed and failed-test lines and its totals also go
    to the terminal as they come."""

    def __init__(self, log: TextIO, output: ProgressOutput):
        self.log = log
        self.output = output
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            self._line(line)
        return len(text)

    def _line(self, line: str) -> None:
        plain = ANSI_ESCAPE.sub("", line)
        self.log.write(plain + "\n")
        if (DBT_RESULT.match(plain) and not DBT_TEST_PASSED.match(plain)) or DBT_TOTALS.match(plain):
            self.output.line("dbt  " + line.strip(), to_log=False)

    def flush(self) -> None:
        self.log.flush()

    def close_pending(self) -> None:
        if self.pending:
            self._line(self.pending)
            self.pending = ""

    def isatty(self) -> bool:
        return False


class StepLines(logging.Handler):
    """Turns Dagster's step events into progress lines: a step's start, then its end with the
    rows it wrote (from the `dagster/row_count` of its materializations) and its duration."""

    def __init__(self, output: ProgressOutput):
        super().__init__(level=logging.DEBUG)
        self.output = output
        self.started: dict[str, float] = {}
        self.rows: dict[str, int] = {}
        self.assets: dict[str, int] = {}

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if record.levelno >= logging.WARNING and self.output.log is not None:
            # Dagster's warnings and errors (stack traces included) go to the run log; the
            # terminal gets the summary of the failure at the end.
            self.output.log.write(f"[{record.levelname}] {record.getMessage()}\n")
        if event is None or not event.step_key:
            return
        step = event.step_key
        if event.is_step_start:
            self.started[step] = time.monotonic()
            self.output.line(f"{step:<34} started")
        elif event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            count = materialization.metadata.get("dagster/row_count")
            self.assets[step] = self.assets.get(step, 0) + 1
            if count is not None:
                self.rows[step] = self.rows.get(step, 0) + int(count.value)
        elif event.is_step_success or event.is_step_failure or event.is_step_skipped:
            seconds = time.monotonic() - self.started.get(step, time.monotonic())
            outcome = "done" if event.is_step_success else ("FAILED" if event.is_step_failure else "skipped")
            written = self._written(step)
            self.output.line(f"{step:<34} {outcome} in {seconds:.1f}s{written}")

    def _written(self, step: str) -> str:
        tables = self.assets.get(step, 0)
        if not tables:
            return " (nothing new)"
        rows = f", {self.rows[step]:,} rows" if step in self.rows else ""
        return f" ({tables} table{'s' if tables != 1 else ''}{rows})"


# The handler of the run in progress: the logger below is built by Dagster at run start, inside
# execute_in_process, so the runner hands it the output it prints to through this slot.
_CURRENT_OUTPUT: list[ProgressOutput] = []


@dg.logger(description="Prints one line per step start and end to the terminal of a headless run.")
def progress_logger(_init_context) -> logging.Logger:
    logger = logging.Logger("leadscore.progress", level=logging.DEBUG)
    logger.addHandler(StepLines(_CURRENT_OUTPUT[-1] if _CURRENT_OUTPUT else ProgressOutput(sys.stdout)))
    return logger


class reporting_progress:
    """Context manager: progress lines of runs started inside go to `output`."""

    def __init__(self, output: ProgressOutput):
        self.output = output

    def __enter__(self) -> ProgressOutput:
        _CURRENT_OUTPUT.append(self.output)
        return self.output

    def __exit__(self, *_exc) -> None:
        _CURRENT_OUTPUT.remove(self.output)
