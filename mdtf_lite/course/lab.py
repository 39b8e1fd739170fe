"""Open the series in JupyterLab, and check headless that a reader can: ``make lab`` and its test.

    python -m mdtf_lite lab                  # JupyterLab on this environment, notebook 00 in front
    python -m mdtf_lite lab --check          # headless: start, open notebook 00, run a cell, stop (< 30 s)

The server runs from the repository root with the kernel ``python3`` (the one ``scripts/setup.sh``
installs into the venv as "Python 3 (mdtf-lite)"); the widget front ends (ipywidgets, anywidget,
plotly) ship as JupyterLab extensions inside their pip packages, so nothing is built or fetched.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from mdtf_lite import paths

__all__ = ["FRONT_NOTEBOOK", "WIDGET_EXTENSIONS", "lab_command", "LabServer", "check_lab"]

FRONT_NOTEBOOK = "notebooks/00_orientation.ipynb"
#: the JupyterLab extensions the series' widgets need (names as JupyterLab lists them)
WIDGET_EXTENSIONS = ("@jupyter-widgets/jupyterlab-manager", "anywidget", "jupyterlab-plotly")


def lab_command(notebook: str = FRONT_NOTEBOOK, extra: list[str] | None = None) -> list[str]:
    """The command ``make lab`` runs: JupyterLab from this interpreter, rooted at the repository.

    As root (containers, CI) it adds ``--allow-root``: JupyterLab refuses to start as root without it.
    """
    root = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--ServerApp.root_dir={paths.project_root()}",
        *root,
        notebook,
        *(extra or []),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    """A headless JupyterLab on a random port with a random token (a context manager)."""

    port: int = field(default_factory=_free_port)
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    log: Path | None = None
    start_timeout: float = float(os.environ.get("MDTF_LAB_START_TIMEOUT", 120))  # s; a loaded machine is slow
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 60.0):
        req = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            kind = resp.headers.get("Content-Type", "")
        return json.loads(raw) if raw and "json" in kind else raw.decode("utf-8", "replace")

    def __enter__(self) -> "LabServer":
        out = open(self.log, "wb") if self.log else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            lab_command(
                extra=[
                    "--no-browser",
                    "--ServerApp.ip=127.0.0.1",
                    f"--ServerApp.port={self.port}",
                    "--ServerApp.port_retries=0",
                    f"--IdentityProvider.token={self.token}",
                ]
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=paths.project_root(),
        )
        deadline = time.time() + self.start_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"JupyterLab exited with {self.proc.returncode} before serving"
                    f"{f' (log: {self.log})' if self.log else ''}"
                )
            try:
                self.request("GET", "/api/status", timeout=2)
                return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(
            f"JupyterLab did not answer on {self.url} within {self.start_timeout:.0f} s "
            "(set MDTF_LAB_START_TIMEOUT on a busy machine)"
        )

    def __exit__(self, *exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.request("POST", "/api/shutdown", timeout=5)
            self.proc.wait(timeout=15)
        except Exception:
            self.proc.terminate()
            self.proc.wait(timeout=15)


def run_cell(server: LabServer, kernel_id: str, code: str, timeout: float = 120.0) -> dict:
    """Execute ``code`` in the kernel over the server's websocket; returns the execute_result's data."""
    from tornado import ioloop, websocket

    async def go():
        ws = await websocket.websocket_connect(
            f"ws://127.0.0.1:{server.port}/api/kernels/{kernel_id}/channels?token={server.token}"
        )
        msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
        ws.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "check",
                        "session": session,
                        "msg_type": "execute_request",
                        "version": "5.3",
                        "date": "",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "channel": "shell",
                    "buffers": [],
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                }
            )
        )
        result, deadline = None, time.time() + timeout
        while time.time() < deadline:
            raw = await ws.read_message()
            if raw is None:
                break
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["header"]["msg_type"]
            if kind == "execute_result":
                result = msg["content"]["data"]
            elif kind == "error":
                raise RuntimeError(f"the cell failed: {msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "status" and msg["content"]["execution_state"] == "idle" and result is not None:
                break
        ws.close()
        if result is None:
            raise RuntimeError(f"no result from the kernel within {timeout} s")
        return result

    return ioloop.IOLoop.current().run_sync(go, timeout=timeout + 5)


def check_lab(log: Path | None = None) -> dict:
    """Start JupyterLab headless, open notebook 00 with the ``python3`` kernel, run one cell, stop.

    Returns what was seen: ``{"seconds", "extensions", "kernel", "result", "page"}``; raises RuntimeError
    naming the step that failed.
    """
    start = time.time()
    with LabServer(log=log) as server:
        page = server.request("GET", f"/lab/tree/{FRONT_NOTEBOOK}")
        found = re.search(r"<script[^>]*id=[\"']jupyter-config-data[\"'][^>]*>(.*?)</script>", page, re.S)
        if not found:
            raise RuntimeError(f"/lab/tree/{FRONT_NOTEBOOK} did not serve the JupyterLab page")
        config = json.loads(found.group(1))
        extensions = sorted(e.get("name", "") for e in config.get("federated_extensions", []))
        missing = [e for e in WIDGET_EXTENSIONS if e not in extensions]
        if missing:
            raise RuntimeError(
                f"JupyterLab lacks the widget extensions {missing} (have {extensions}): reinstall with make setup"
            )
        nb = server.request("GET", f"/api/contents/{FRONT_NOTEBOOK}?content=1")
        kernel = nb["content"]["metadata"].get("kernelspec", {}).get("name")
        if kernel not in server.request("GET", "/api/kernelspecs")["kernelspecs"]:
            raise RuntimeError(f"{FRONT_NOTEBOOK} asks for kernel {kernel!r}, which this JupyterLab does not have")
        session = server.request(
            "POST",
            "/api/sessions",
            {"path": FRONT_NOTEBOOK, "type": "notebook", "name": Path(FRONT_NOTEBOOK).name, "kernel": {"name": kernel}},
        )
        try:
            result = run_cell(
                server, session["kernel"]["id"], "import mdtf_lite, sys; (mdtf_lite.__name__, sys.prefix)"
            )
        finally:
            server.request("DELETE", f"/api/sessions/{session['id']}")
    return {
        "seconds": round(time.time() - start, 1),
        "extensions": extensions,
        "kernel": kernel,
        "result": result.get("text/plain", ""),
        "page": f"/lab/tree/{FRONT_NOTEBOOK}",
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mdtf_lite lab", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="headless check instead of opening JupyterLab")
    args, extra = ap.parse_known_args(argv)
    if args.check:
        print(json.dumps(check_lab(), indent=1))
        return 0
    return subprocess.call(lab_command(extra=extra), cwd=paths.project_root())
