"""Assessments of a fitted model: explanations, fairness, drift and privacy.

Four subpackages, each returning a frozen result with ``to_dict()`` that the evidence package
(:mod:`workbench.reporting`), the run engine and the governance trail consume:

- :mod:`workbench.assess.explain`  SHAP explanations (``ExplanationResult``)
- :mod:`workbench.assess.fairness` fairness by group (``FairnessResult``, ``MitigationResult``)
- :mod:`workbench.assess.drift`    drift between a reference and a current window (``DriftResult``)
- :mod:`workbench.assess.privacy`  identifier scans, k-anonymity, DP noise (``PrivacyResult``)

explain, fairness and drift do not import each other (an import-linter ``independence``
contract enforces it). Import the subpackage you need; this package loads none of them, so that
``import workbench.assess`` stays fast.
"""

from __future__ import annotations

__all__: list[str] = []
