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
# # 8강 · 거버넌스: 증거, 검토, 기록
#
# 모델이 실제 라인에서 쓰이기 전에, 그 모델을 만들지 않은 사람들이 증거를 보고 승인하거나
# 거부합니다.
# 이 과정을 믿을 수 있게 만드는 것이 세 가지 있습니다.
#
# 1. 몰래 바꿀 수 없는 **증거**: 증거 묶음의 모든 파일은 SHA-256 지문과 함께 목록(manifest)에
# 적힙니다.
# 2. **역할**: 누가 승인하고 누가 배포하는지 정해져 있습니다. 누구도 자기 모델을 스스로 결정할 수
# 없습니다.
#    이 규칙은 화면이 아니라 라이브러리가 확인합니다.
# 3. **기록(trail)**: 요청, 검토, 승인, 거부가 모두 해시로 이어진 기록에 덧붙여집니다.
#    아무도 고치거나 지울 수 없고, 누구나 검증할 수 있습니다.

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

lesson = start_lesson(8, language="ko")
work = Path(tempfile.mkdtemp(prefix="lesson08-"))

# %% [markdown]
# ## 1. 증거
#
# 3강과 4강의 고장 모델을 평가하고 증거 묶음을 만듭니다.

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
    title="가공 설비 고장 모델",
    language="ko",
    model_info={"name": "machining-failure", "version": "1.0"},
    metrics=result,
)
sorted(package.files)

# %%
verify_evidence_package(folder)  # 빈 목록: 모든 파일이 목록과 일치합니다

# %% [markdown]
# 누군가 재현율이 "너무 낮아 보인다"며 결과 파일의 숫자 하나를 고쳤습니다.

# %%
metrics_file = folder / "results" / "metrics.json"
metrics = json.loads(metrics_file.read_text(encoding="utf-8"))
metrics["metrics"]["recall"]["value"] = 0.99
metrics_file.write_text(json.dumps(metrics), encoding="utf-8")

# %% [markdown]
# ### 연습 1
# 이제 검증은 어떤 파일을 알려 줍니까? 검증이 돌려주는 목록으로 답하세요.

# %%
# BEGIN SOLUTION
answer = verify_evidence_package(folder)
# END SOLUTION
check("l08.e1", answer, folder=folder)

# %% [markdown]
# ## 2. 역할
#
# `can(user, action)`은 어떤 역할이 그 일을 해도 되는지 알려 줍니다.
# `authorize`는 허용되지 않으면 `PermissionDeniedError`를 내고, 거부한 사실을 기록에 남깁니다.

# %%
[(r.value, can(User(username="someone", role=r), "deploy")) for r in Role]

# %% [markdown]
# ### 연습 2
# 모델 버전을 **승인**할 수 있는 역할은 무엇입니까? 역할 이름의 집합으로 답하세요.

# %%
# BEGIN SOLUTION
answer = {r.value for r in Role if can(User(username="someone", role=r), "approve")}
# END SOLUTION
check("l08.e2", answer)

# %% [markdown]
# ## 3. 기록
#
# 사건마다 바로 앞 사건의 해시(`prev_hash`)와, 내용과 그 연결로 계산한 자기 해시를 저장합니다.
# 오래된 사건 하나를 고치면 그 뒤의 해시가 모두 맞지 않게 됩니다.

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
# ### 연습 3
# 두 번째 사건은 다른 사건을 가리킵니다. 가리키는 사건의 `hash` 전체를 답하세요.

# %%
# BEGIN SOLUTION
answer = events[1].prev_hash
# END SOLUTION
check("l08.e3", answer, events=events)

# %% [markdown]
# 데이터베이스도 기록을 고치지 못하게 막습니다. UPDATE는 트리거가 거부합니다.

# %%
try:
    with engine.begin() as conn:
        conn.execute(text("UPDATE gov_events SET actor = 'someone else' WHERE seq = 1"))
except Exception as exc:
    print("거부됨:", type(exc).__name__)
trail.verify().to_dict()

# %% [markdown]
# ## 정리
#
# - 증거 묶음은 파일들과 그 지문의 목록입니다. 무엇이 바뀌든 드러납니다.
#   그래서 증거는 옛 묶음을 고치지 않고 새 묶음을 만들어 바로잡습니다.
# - 역할은 라이브러리가 확인합니다. 검토자와 윤리 담당자가 승인하고, 관리자가 배포합니다.
#   누구도 자기 모델을 스스로 결정할 수 없습니다.
# - 기록은 사슬입니다. 사건마다 앞 사건의 해시를 담고, 데이터베이스는 수정과 삭제를 거부합니다.
#   누구나 검증할 수 있고, 내보낸 사본에는 서명이 붙습니다.
