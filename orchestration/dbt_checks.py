"""How dbt nodes appear in Dagster: tests as asset checks with a description saying what the test
looks for (and, for tests of severity warn, that they only warn), and models with the project's
own metadata from their yml `meta`."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from orchestration.ingestion import WARNS_ONLY

# Asset metadata key: False on a dbt model whose yml says `meta: {publish: false}` (left out of the
# BI copy), so Dagster code reads it from the specs dagster-dbt built instead of the manifest again.
PUBLISH_METADATA_KEY = "leadscore/publish"


class CheckDescribingTranslator(DagsterDbtTranslator):
    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        if (dbt_resource_props.get("config", {}).get("meta") or {}).get("publish") is False:
            metadata[PUBLISH_METADATA_KEY] = False
        return metadata

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

