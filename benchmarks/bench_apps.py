"""Review desk: time until interactive against a trivial Voilà page, and the page weight.

One ``workbench serve`` (sign-in, pre-started kernels) serves the review desk and a trivial
notebook (one button) side by side; the review trail holds ``--versions`` model versions with
``--rounds`` review rounds each (100 × 4 = 1,000 review events). Playwright with Debian's
Chromium signs in once and opens each page ``--visits`` times, alternating, each time on a
freshly pre-started kernel (it waits for the pool to refill): the time from navigation until the
page's widgets are on screen and clickable (the desk's decision button, the trivial button).
Targets: desk ≤ 1.3 × trivial; a review page ≤ 2 MB whatever the data size (the same desk opened
on evidence of a small and of a ten times larger data set, bytes counted over HTTP and the
kernel websocket).

    .venv/bin/python benchmarks/bench_apps.py [--versions 100] [--rounds 4] [--visits 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TRIVIAL = """# %%
import ipywidgets as w

button = w.Button(description="ok")
button.add_class("wb-trivial")
button
"""
SERVER = """
import sys
from pathlib import Path
from workbench.apps._server import ServeOptions, run_server
home, port, source = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
options = ServeOptions(port=port, language="en", pool_size=1,
                       database_url=f"sqlite:///{home / 'workbench.db'}",
                       build_dir=home / "build", extra_apps=("trivial",))
run_server(options, source_dir=source, ready=lambda url: print("READY", url, flush=True))
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _mb(n: float) -> str:
    return f"{n / 1e6:.2f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--visits", type=int, default=5)
    parser.add_argument("--rows", type=int, default=8000, help="rows behind the small evidence")
    parser.add_argument("--big", type=int, default=10, help="larger data set: rows × this")
    parser.add_argument("--keep", action="store_true", help="keep the temporary home")
    args = parser.parse_args()

    from workbench.apps import build_demo_evidence, seed_demo_reviews
    from workbench.data import make_engine
    from workbench.governance import Trail

    home = Path(tempfile.mkdtemp(prefix="wb_bench_apps_"))
    os.environ["WORKBENCH_POLICIES"] = str(REPO / "governance")
    print(f"home {home}; load {os.getloadavg()[0]:.1f} (1-min average, 2 cores)")
    t0 = time.perf_counter()
    small = build_demo_evidence(home / "evidence" / "small", n_rows=args.rows)
    big = build_demo_evidence(home / "evidence" / "big", n_rows=args.rows * args.big)
    print(
        f"evidence packages: {args.rows:,} rows → {_mb(small.size_bytes)}, "
        f"{args.rows * args.big:,} rows → {_mb(big.size_bytes)} "
        f"({time.perf_counter() - t0:.0f} s)"
    )
    engine = make_engine(f"sqlite:///{home / 'workbench.db'}")
    t0 = time.perf_counter()
    seed_demo_reviews(engine, small.folder, versions=args.versions, rounds=args.rounds)
    seed_demo_reviews(engine, big.folder, versions=1, prefix="big-data-v")
    n_events = len(Trail(engine, create=False))
    print(
        f"trail: {n_events:,} events, {args.versions + 1} versions in review "
        f"(seeded in {time.perf_counter() - t0:.0f} s)"
    )
    engine.dispose()

    source = home / "source"
    source.mkdir()
    shutil.copy(REPO / "apps" / "review_desk.py", source / "review_desk.py")
    (source / "trivial.py").write_text(TRIVIAL, "utf-8")
    port = _free_port()
    log = home / "server.log"
    env = {**os.environ, "WORKBENCH_HOME": str(home)}
    env["WORKBENCH_DATABASE_URL"] = f"sqlite:///{home / 'workbench.db'}"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(home), str(port), str(source)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"

    def filled(name: str) -> int:
        text = log.read_text("utf-8", "replace")
        if name == "review_desk":  # its kernel has run the app up to the sign-in hand-over
            return text.count("is ready for a page")
        return text.count(f"Kernel pool of {name}.ipynb is filled")

    def wait_filled(name: str, count: int, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while filled(name) < count:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"server failed or pool not refilled:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    try:
        wait_filled("review_desk", 1)
        wait_filled("trivial", 1)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1280, "height": 1000})
            page = context.new_page()
            page.goto(f"{base}/login")
            page.fill("#username", "kim.reviewer")
            page.fill("#password", "review-demo-1")
            page.click("#sign-in")
            page.wait_for_selector("#who")

            selectors = {"trivial": ".wb-trivial", "review_desk": ".wb-submit"}
            uses = {"trivial": 1, "review_desk": 1}
            times: dict[str, list[float]] = {"trivial": [], "review_desk": []}
            order = ["trivial", "review_desk"]
            for visit in range(args.visits + 1):  # the first round warms the browser cache
                for name in order if visit % 2 == 0 else order[::-1]:
                    wait_filled(name, uses[name])
                    time.sleep(1.0)
                    started = time.perf_counter()
                    page.goto(f"{base}/voila/render/{name}.ipynb")
                    page.wait_for_selector(selectors[name], state="visible", timeout=120_000)
                    elapsed = time.perf_counter() - started
                    uses[name] += 1
                    if visit:
                        times[name].append(elapsed)
                    page.goto(f"{base}/")  # leave: Voilà shuts the kernel down
            desk, trivial = (
                statistics.median(times["review_desk"]),
                statistics.median(times["trivial"]),
            )

            # page weight, cold cache, one review each on the small and the large data's evidence
            weights = {}
            biggest: dict[str, list[tuple[int, str]]] = {}
            for version in ("demo-failure-risk-v1", "big-data-v1"):
                wait_filled("review_desk", uses["review_desk"])
                ctx = browser.new_context(viewport={"width": 1280, "height": 1000})
                ctx.add_cookies(context.cookies())
                pg = ctx.new_page()
                counted = {"http": 0, "ws": 0, "static": 0, "wire": 0}
                largest: list[tuple[int, str]] = []

                def on_response(response, counted=counted, largest=largest):
                    if response.url.startswith("blob:"):
                        return  # made in the page from websocket data (counted there)
                    try:
                        n = len(response.body())
                        # bytes on the wire (gzip where the server compresses)
                        wire = int(response.request.sizes()["responseBodySize"])
                    except Exception:
                        return
                    counted["wire"] += wire if wire >= 0 else n
                    static = (
                        "/voila/static/",
                        "/voila/labextensions/",
                        "/voila/templates/",
                        "/voila/api/themes/",
                    )
                    key = "static" if any(s in response.url for s in static) else "http"
                    counted[key] += n
                    if key == "http":
                        largest.append((n, response.url.split("?")[0][len(base) :]))

                def on_socket(ws, counted=counted):
                    def frame(payload, counted=counted):
                        counted["ws"] += len(payload)

                    ws.on("framereceived", frame)
                    ws.on("framesent", frame)

                pg.on("response", on_response)
                pg.on("websocket", on_socket)
                pg.goto(f"{base}/voila/render/review_desk.ipynb")
                pg.wait_for_selector(".wb-submit", timeout=120_000)
                uses["review_desk"] += 1
                index = pg.evaluate(
                    "v => [...document.querySelectorAll('.wb-queue select option')]"
                    ".findIndex(o => o.textContent.split(/\\s/)[0] === v)",
                    version,
                )
                pg.select_option(".wb-queue select", index=index)
                pg.click("button.wb-open")
                pg.wait_for_function(
                    "v => [...document.querySelectorAll('.wb-version')]"
                    ".some(e => e.textContent === v)",
                    arg=version,
                    timeout=60_000,
                )
                pg.wait_for_timeout(4000)  # figures are drawn after the page is usable
                weights[version] = dict(counted)
                biggest[version] = sorted(largest, reverse=True)[:3]
                ctx.close()
            browser.close()
    finally:
        if server.poll() is None:
            os.kill(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(server.pid, signal.SIGKILL)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    print()
    print(f"time until interactive (median of {args.visits} visits, pre-started kernels):")
    print(f"  trivial Voilà page        {trivial:6.2f} s   {times['trivial']}")
    print(f"  review desk ({n_events:,} events) {desk:6.2f} s   {times['review_desk']}")
    print(f"  ratio desk / trivial      {desk / trivial:6.2f} ×   (target ≤ 1.3)")
    print()
    print("page weight of one review (cold browser cache):")
    print(
        f"  {'evidence of':<28}{'HTML+API':>10}{'websocket':>11}{'review':>10}{'+ static':>12}"
        f"{'on the wire':>14}"
    )
    for version, label in (
        ("demo-failure-risk-v1", f"{args.rows:,} rows"),
        ("big-data-v1", f"{args.rows * args.big:,} rows"),
    ):
        w = weights[version]
        own = w["http"] + w["ws"]
        print(
            f"  {label:<28}{_mb(w['http']):>10}{_mb(w['ws']):>11}{_mb(own):>10}"
            f"{_mb(own + w['static']):>12}{_mb(w['wire'] + w['ws']):>14}"
        )
    for version, items in biggest.items():
        print(
            f"  largest HTML/API responses ({version}): "
            + ", ".join(f"{p} {n:,} B" for n, p in items)
        )
    print("  target: ≤ 2 MB whatever the data size, for the whole page as transferred (on the")
    print("  wire: every response incl. Voilà's static JavaScript, CSS and fonts, gzip-compressed")
    print("  by the server, plus the websocket); 'review' is the page's own part, uncompressed")
    worst = max(weights[v]["wire"] + weights[v]["ws"] for v in weights)
    print(f"  heaviest page on the wire: {_mb(worst)}: {'met' if worst <= 2_000_000 else 'MISSED'}")
    print(f"load at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
