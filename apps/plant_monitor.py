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
# Plant monitor / 공장 모니터: served by `workbench serve` behind sign-in (Voilà).
# The logic lives in workbench.apps; this notebook only shows its widget for the signed-in
# user of the page.
from workbench.apps import plant_monitor_app

plant_monitor_app()
