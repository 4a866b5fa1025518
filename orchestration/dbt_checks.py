"""How dbt tests appear as Dagster asset checks: with a description saying what the test looks
for, and for tests of severity warn, that they only warn (they are not blocking)."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from orchestration.ingestion import WARNS_ONLY


class CheckDescribingTranslator(DagsterDbtTranslator):
    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        test = manifest["nodes"].get(unique_id, {})
        description = (test.get("description") or spec.description or f"dbt test {spec.name}").strip()
        if not spec.blocking:
            description += WARNS_ONLY
        return spec._replace(description=description)

