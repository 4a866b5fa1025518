"""Confidence intervals and thresholds shared by the backtest, the predictive score's publish
rule and the report's warnings, so each kind of interval has one method everywhere:

- a rate (MQL precision and recall, a band's conversion rate): Wilson score interval;
- an AUC: Hanley-McNeil normal approximation, clipped to [0, 1];
- a ratio of two groups' rates (rule lift, in dbt's rpt_rule_effectiveness): log relative risk
  (Katz).

All at 95%: z = 1.96, the value the dbt models use.
"""

from __future__ import annotations

import math

import pandas as pd

CONFIDENCE_LEVEL = 0.95
Z_95 = 1.96
# Fewer positives than this and an AUC, a precision or a fit says little: the report warns.
MIN_POSITIVES = 20

WILSON = "wilson"
HANLEY_MCNEIL = "hanley_mcneil"


def wilson_interval(successes: float, trials: float, z: float = Z_95) -> tuple[float | None, float | None]:
    """Wilson score interval of successes / trials; (None, None) without trials."""
    if trials <= 0:
        return None, None
    rate = successes / trials
    denominator = 1 + z * z / trials
    centre = (rate + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / denominator
    # Exact at the ends: no success gives 0, all successes 1 (not a rounding error away).
    lower = 0.0 if successes <= 0 else max(0.0, centre - half)
    upper = 1.0 if successes >= trials else min(1.0, centre + half)
    return lower, upper


def hanley_mcneil_interval(auc: float | None, positives: int, negatives: int, z: float = Z_95
                           ) -> tuple[float | None, float | None]:
    """Normal interval of an AUC with the Hanley-McNeil (1982) standard error; (None, None) when
    the AUC is undefined."""
    if auc is None or positives <= 0 or negatives <= 0 or math.isnan(auc):
        return None, None
    q1 = auc / (2 - auc)
    q2 = 2 * auc * auc / (1 + auc)
    variance = (auc * (1 - auc) + (positives - 1) * (q1 - auc * auc)
                + (negatives - 1) * (q2 - auc * auc)) / (positives * negatives)
    half = z * math.sqrt(max(variance, 0.0))
    return max(0.0, auc - half), min(1.0, auc + half)


def backtest_warnings(backtest: pd.DataFrame, model_name: str, snapshot_mode: bool = False) -> list[str]:
    """What makes the backtest's figures noise, with the setting to change: no date at all, dates
    with fewer than MIN_POSITIVES positives, repurchase dates with fewer than MIN_POSITIVES
    accounts reordering or not, dates whose model trained on fewer positives. A snapshot export
    has no past dates by design (its model is cross-validated instead)."""
    if backtest.empty and snapshot_mode:
        return []
    if backtest.empty:
        return ["The backtest has no date: the score history holds no snapshot to test on. Raise the dbt var "
                "backtest_history_days (or load a longer history) and rebuild."]
    new_business = backtest[backtest["motion"] == "new_business"]
    per_date = new_business.groupby("as_of_date", sort=True).agg(people=("people", "max"),
                                                                 positives=("positives", "max"))
    thin = per_date[per_date["positives"] < MIN_POSITIVES]
    repurchase = backtest[backtest["motion"] == "repurchase"].groupby("as_of_date", sort=True).agg(
        accounts=("people", "max"), positives=("positives", "max"))
    negatives = repurchase["accounts"] - repurchase["positives"]
    thin_accounts = repurchase[(repurchase["positives"] < MIN_POSITIVES) | (negatives < MIN_POSITIVES)]
    model = backtest[backtest["scorer"] == model_name].dropna(subset=["training_positives"])
    undertrained = model[model["training_positives"] < MIN_POSITIVES].sort_values("as_of_date")
    warnings = []
    if len(thin):
        dates = ", ".join(f"{str(day)[:10]} ({int(row.positives)} of {int(row.people):,})"
                          for day, row in thin.iterrows())
        warnings.append(
            f"Backtest dates with fewer than {MIN_POSITIVES} positives (positives of people): {dates}. Their AUC, "
            "precision and recall are mostly noise: raise the dbt var backtest_horizon_days or "
            "backtest_history_days, or load more history.")
    if len(thin_accounts):
        dates = ", ".join(f"{str(day)[:10]} ({int(row.positives)} of {int(row.accounts):,})"
                          for day, row in thin_accounts.iterrows())
        warnings.append(
            f"Repurchase backtest dates with fewer than {MIN_POSITIVES} accounts that opened an opportunity, or "
            f"fewer than {MIN_POSITIVES} that did not (positives of customer accounts): {dates}. Their AUC says "
            "little: load more customers' history, or change the dbt var backtest_horizon_days (with purchase "
            "cycles shorter than the horizon nearly every customer reorders within it).")
    if len(undertrained):
        dates = ", ".join(f"{str(row.as_of_date)[:10]} ({int(row.training_positives)} of {int(row.training_rows):,})"
                          for row in undertrained.itertuples())
        warnings.append(
            f"Backtest dates where the predictive model trained on fewer than {MIN_POSITIVES} positives (positives "
            f"of training rows): {dates}. Its figures there say little: raise the dbt vars "
            "predictive_training_snapshots or predictive_horizon_days.")
    return warnings
