"""The real server: `tearline serve` as a subprocess, spoken to over HTTP on loopback."""

from __future__ import annotations

from pathlib import Path

import httpx

from tearline.fixtures import Demo
from tearline.node import Node
from tests.cli.support import free_port, serving


def test_tearline_serve_answers_over_http(node: Node, demo: Demo, tmp_path: Path) -> None:
    port = free_port()
    with serving(["serve", "--data", str(node.data_dir), "--port", str(port)], port, tmp_path / "logs") as server:
        assert f"http://127.0.0.1:{port}/" in server.output()
        with httpx.Client(base_url=server.url, timeout=10) as http:
            wrong = http.post("/api/login", json={"username": "mateo.enlace", "password": "wrong"})
            assert wrong.status_code == 401
            assert wrong.json()["error"] == "unauthorized"
            login = http.post("/api/login", json={"username": "mateo.enlace", "password": "demo-mateo-2026"})
            assert login.status_code == 200, login.text
            headers = {"Authorization": f"Bearer {login.json()['token']}"}
            report = http.get(f"/api/reports/{demo.reports['convoy']}", headers=headers)
            assert report.status_code == 200, report.text
            assert report.json()["banner"] == "SECRET//LES//REL TO USA, MEX"
            assert http.get("/api/counts", headers=headers).json()["reports"] == 1
            missing = http.get("/api/reports", headers={"Authorization": "Bearer tl_nope"})
            assert missing.status_code == 401
            assert http.get("/openapi.json").json()["info"]["title"] == "tearline"
