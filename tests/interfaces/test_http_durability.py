"""Nothing acknowledged is lost when the server is killed with SIGKILL under load.

A real uvicorn process on loopback; two client threads send reports and
messages that get accounts locked; the server is killed mid-stream, started
again on the same data folder, and every report id and account action the
clients saw acknowledged must be there.
"""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from spimguard.state.ledger import Ledger

SPAM = "WIN a FREE iPhone now!!! claim your prize at http://free-prize-{n}.xyz/claim"


def test_sigkill_under_load_loses_no_acknowledged_report_or_action(
        tmp_path: Path, service_process: Any) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    _, token = ledger.create_key("load", ["check", "admin"])
    ledger.close()
    proc, port = service_process(tmp_path)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {token}"}
    acked_reports: list[int] = []
    acked_actions: dict[str, str] = {}
    stop = threading.Event()

    def reporter(k: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=5) as c:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = c.post("/v1/reports", json={"reporter": f"r{k}", "message_id": f"m{n}",
                                                    "label": "spam"})
                except httpx.HTTPError:
                    return  # the server is gone: nothing more is acknowledged
                if r.status_code == 200:
                    acked_reports.append(r.json()["id"])

    def spammer() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=5) as c:
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = c.post("/v1/check", json={"id": f"s{n}", "sender": f"bot{n}",
                                                  "recipients": ["x"],
                                                  "text": SPAM.format(n=n)})
                except httpx.HTTPError:
                    return
                if r.status_code == 200 and r.json()["account_action"]:
                    acked_actions[f"bot{n}"] = r.json()["account_action"]

    threads = [threading.Thread(target=reporter, args=(k,)) for k in range(2)]
    threads.append(threading.Thread(target=spammer))
    for t in threads:
        t.start()
    time.sleep(3.0)
    proc.send_signal(signal.SIGKILL)  # mid-stream: requests are in flight
    proc.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    assert len(acked_reports) > 20 and len(acked_actions) > 3, (len(acked_reports),
                                                                 len(acked_actions))

    proc, _ = service_process(tmp_path, port)
    try:
        kept = Ledger(tmp_path / "ledger.sqlite")
        stored = {r["id"] for r in kept.reports(limit=1_000_000)}
        assert set(acked_reports) <= stored
        with httpx.Client(base_url=base, headers=headers, timeout=5) as c:
            for user, action in acked_actions.items():
                got = c.get(f"/v1/accounts/{user}").json()
                assert got["action"] == action, (user, got)
            # and the restored lock is enforced on the next message
            user = next(iter(acked_actions))
            v = c.post("/v1/check", json={"id": "after", "sender": user, "recipients": ["x"],
                                          "text": "hello"}).json()
            assert v["action"] in ("hold", "block")
        kept.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
