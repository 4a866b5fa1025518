"""How dbt nodes appear in Dagster: tests as asset checks with a description saying what the test
looks for (and, for tests of severity warn, that they only warn), models with the project's own
metadata from their yml `meta`, and every node in the asset group of its layer."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtProject

from leadscore.orchestration.ingestion import WARNS_ONLY

# Asset metadata key: False on a dbt model whose yml says `meta: {publish: false}` (left out of the
# BI copy), so Dagster code reads it from the specs dagster-dbt built instead of the manifest again.
PUBLISH_METADATA_KEY = "leadscore/publish"

# Asset groups follow the dbt folders: models/staging/*, models/intermediate/* and one group per
# models/marts/<topic>. The person dimension is read by BI with the reports, so it sits with them.
RAW_GROUP, SEEDS_GROUP = "raw", "seeds"
MART_GROUPS = {"people": "reporting"}


class CheckDescribingTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str:
        resource_type = dbt_resource_props.get("resource_type")
        if resource_type == "source":
            # The schema it lives in: raw for the landing files, ops for what dbt's hooks keep.
            return dbt_resource_props.get("schema") or RAW_GROUP
        if resource_type == "seed":
            return SEEDS_GROUP
        # fqn: the project, the folders under models/, the model.
        folders = list(dbt_resource_props.get("fqn", []))[1:-1]
        if folders[:1] == ["marts"] and len(folders) > 1:
            # A new marts folder gets a group of its own name rather than Dagster's `default`.
            return MART_GROUPS.get(folders[1], folders[1])
        return folders[0] if folders else "marts"

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

