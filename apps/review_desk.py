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
# Review desk / 심사 데스크: served by `workbench serve` behind sign-in (Voilà).
# The logic lives in workbench.apps; this notebook only shows its widget for the signed-in
# user of the page.
from workbench.apps import review_desk_app

review_desk_app()
