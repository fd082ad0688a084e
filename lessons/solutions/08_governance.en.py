# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 8 · Governance: evidence, review and the trail
#
# Before a model may act on a real line, people who did not build it look at the evidence and
# sign off, or refuse. Three things make that trustworthy:
#
# 1. **evidence** that cannot be changed unnoticed: every file of an evidence package is listed
#    with its SHA-256 fingerprint in a manifest;
# 2. **roles**: who may approve, who may deploy, and nobody decides on their own model. The
#    library checks this, not only the screen;
# 3. a **trail**: every request, review, approval and refusal is appended to a hash-chained log
#    that nobody can edit or delete from, and that anyone can verify.

# %%
import json
import tempfile
from pathlib import Path

from sqlalchemy import text

from workbench.data import make_engine
from workbench.governance import Role, Trail, User, can, create_governance_tables
from workbench.lessons import check, machining, start_lesson
from workbench.models import ChronologicalSplit, FailureClassifier, ai4i_features, evaluate
from workbench.reporting import build_evidence_package, verify_evidence_package

lesson = start_lesson(8, language="en")
work = Path(tempfile.mkdtemp(prefix="lesson08-"))

# %% [markdown]
# ## 1. Evidence
#
# We evaluate the failure model of lessons 3 and 4 and write its evidence package.

# %%
frame = machining()
result = evaluate(
    FailureClassifier(threshold="f1", n_estimators=100, random_state=0),
    ai4i_features(frame, feature_set="physics").assign(timestamp=frame["timestamp"]),
    frame["machine_failure"],
    protocol=ChronologicalSplit(time="timestamp", test_fraction=0.5),
    n_boot=200,
    dataset="automotive_machining",
)
folder = work / "evidence"
package = build_evidence_package(
    folder,
    title="Machining failure model",
    language="en",
    model_info={"name": "machining-failure", "version": "1.0"},
    metrics=result,
)
sorted(package.files)

# %%
verify_evidence_package(folder)  # an empty list: every file matches the manifest

# %% [markdown]
# Someone thinks the recall "looks too low" and edits one number in a results file.

# %%
metrics_file = folder / "results" / "metrics.json"
metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
metrics["metrics"]["recall"]["value"] = 0.99
metrics_file.write_text(json.dumps(metrics), encoding="utf-8")

# %% [markdown]
# ### Exercise 1
# Which file(s) does verification report now? Answer with the list it returns.

# %%
# BEGIN SOLUTION
answer = verify_evidence_package(folder)
# END SOLUTION
check("l08.e1", answer, folder=folder)

# %% [markdown]
# ## 2. Roles
#
# `can(user, action)` says whether a role may do an action; `authorize` raises
# `PermissionDeniedError` and records the refusal in the trail.

# %%
[(r.value, can(User(username="someone", role=r), "deploy")) for r in Role]

# %% [markdown]
# ### Exercise 2
# Which roles may **approve** a model version? Answer with a set of role names.

# %%
# BEGIN SOLUTION
answer = {r.value for r in Role if can(User(username="someone", role=r), "approve")}
# END SOLUTION
check("l08.e2", answer)

# %% [markdown]
# ## 3. The trail
#
# Each event stores the hash of the event before it (`prev_hash`) and its own hash over its
# content and that link. Change one old event, and every hash after it stops matching.

# %%
engine = make_engine(f"sqlite:///{work / 'governance.db'}")
create_governance_tables(engine)
trail = Trail(engine)
trail.append(
    "review_requested", actor="minji", role="researcher", subject="model:machining-failure@1.0"
)
trail.append("approved", actor="junho", role="reviewer", subject="model:machining-failure@1.0")
events = trail.events()
[(e.seq, e.kind, e.actor, e.prev_hash[:12], e.hash[:12]) for e in events]

# %% [markdown]
# ### Exercise 3
# The second event points back to another event. Answer with the full `hash` it points to.

# %%
# BEGIN SOLUTION
answer = events[1].prev_hash
# END SOLUTION
check("l08.e3", answer, events=events)

# %% [markdown]
# The database itself refuses to change the trail: an UPDATE is stopped by a trigger.

# %%
try:
    with engine.begin() as conn:
        conn.execute(text("UPDATE gov_events SET actor = 'someone else' WHERE seq = 1"))
except Exception as exc:
    print("refused:", type(exc).__name__)
trail.verify().to_dict()

# %% [markdown]
# ## What you learned
#
# - An evidence package is a set of files and a manifest of their fingerprints: any change
#   shows, so evidence is corrected by writing a new package, never by editing the old one.
# - Roles are checked in the library: reviewers and ethics officers approve, admins deploy,
#   and nobody decides on their own model.
# - The trail is a chain: each event holds the previous event's hash, and the database refuses
#   edits and deletions. Anyone can verify it, and an exported copy is signed.
