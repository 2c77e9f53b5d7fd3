"""Regenerate the console screenshots of the README: `python docs/screenshots.py` (needs /usr/bin/chromium).

Seeds a throwaway fleet on a temporary SQLite file, serves it on loopback and photographs two pages.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

os.environ.setdefault("FLEET_BCRYPT_ROUNDS", "4")

import waitress  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from fleetctl.server.app import create_app  # noqa: E402
from fleetctl.services import knowledge, members, research, task_actions, tasks  # noqa: E402

OUT = Path(__file__).parent


def seed() -> tuple[str, int]:
    """A fleet with work waiting for review; returns the reviewer's token and the task to photograph."""
    _, owner, _ = members.create_fleet("acme", owner="alice")
    reviewer, token = members.register(owner, "rita", role="reviewer")
    deployer, _ = members.register(owner, "deploy-bot", domains=["infra"])
    scout, _ = members.register(owner, "scout", domains=["payments"])
    first = tasks.create(owner, "Rotate the staging database credentials", priority="high", assign="deploy-bot",
                         domains=["infra"], body="The old password leaked in a CI log.\n\n"
                         "- rotate the `staging` role\n- update the vault entry\n- redeploy `api` and `worker`")
    second = tasks.create(owner, "Retry payment webhooks with backoff", priority="urgent", assign="scout",
                          domains=["payments"], body="Webhooks fail on the first **503** and are never retried.")
    for task, agent in ((first, deployer), (second, scout)):
        for action in ("accept", "start"):
            task_actions.act(agent, task.id, action)
    task_actions.act(deployer, first.id, "submit", note="Rotated; vault updated; both services redeployed "
                     "and healthy. See `deploy-log#8812`.")
    task_actions.act(scout, second.id, "submit", note="Exponential backoff, 5 tries, jitter.")
    research.publish(scout, "Which card networks allow retries after a soft decline?", 0.7,
                     question="Can we retry soft declines automatically?", reviewers=["rita"],
                     body="Visa and Mastercard allow up to 15 retries in 30 days.")
    knowledge.publish(deployer, "gotcha", "Staging DB password rotates every 90 days", domains=["infra"],
                      pinned=True)
    return token, first.id


def main() -> None:
    path = Path(tempfile.mkdtemp()) / "screenshots.db"
    app = create_app(str(path))
    token, task_id = seed()
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1100, "height": 760})
        page.goto(url + "/ui/signin")
        page.fill("#token", token)
        page.click("button[type=submit]")
        page.wait_for_url("**/ui/review")
        page.screenshot(path=str(OUT / "console-review.png"))
        page.goto(f"{url}/ui/tasks/{task_id}")
        page.screenshot(path=str(OUT / "console-task.png"), full_page=True)
        if os.environ.get("NARROW"):
            page.set_viewport_size({"width": 390, "height": 844})
            for name in ("review", "tasks", f"tasks/{task_id}", "members", "knowledge"):
                page.goto(f"{url}/ui/{name}")
                page.screenshot(path=os.path.join(os.environ["NARROW"], name.replace("/", "-") + ".png"))
        browser.close()
    server.close()


if __name__ == "__main__":
    main()
