# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
# Program overview / 사업 현황: served by `workbench serve` behind sign-in (Voilà).
# The logic lives in workbench.apps; this notebook only shows its widget for the signed-in
# user of the page.
from workbench.apps import program_overview_app

program_overview_app()
