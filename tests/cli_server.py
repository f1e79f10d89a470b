"""Each `ganzoo` command line of the tests in a new process, without paying for imports each time.

A test's `ganzoo ARGS` costs about 4 s on this project's 2-core CI machine before the command does
anything: a fresh interpreter imports torch, torchvision and numpy. The suite runs several hundred
command lines (`pytest -n 2` over the suite took 26.5 min in fresh interpreters, 14 min with this
on 2026-12-07). Here one warm interpreter per pytest worker imports
those libraries once (never ganzoo, its plugins, or a library that reads its environment when
imported, like huggingface_hub or matplotlib) and forks a child per command line. The child is
what a new process would be: its own process id, working directory, environment and `sys.path`
(the folder it starts in, then PYTHONPATH), stdin at end of file, stdout and stderr into files,
ganzoo's `python -m ganzoo` run as `__main__`, exit hooks run, and the exit status (or the signal
that killed it) returned like `subprocess.run`'s.

Run as a script it is the warm interpreter: one JSON request per line on stdin, two replies per
request on stdout (the child's pid when it starts, its status when it ends).

GANZOO_TEST_FRESH_PROCESS=1 makes every command line a fresh interpreter again (`run_cli` in
conftest.py), for a run that doubts this one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

#: Imported once by the warm interpreter: the slow ones, and none that reads the environment at
#: import time in a way a test changes (HF_*, MPLCONFIGDIR, COLUMNS for ganzoo's consoles).
PRELOAD = ("numpy", "PIL.Image", "torch", "torch.nn", "torchvision", "torchvision.transforms", "safetensors.torch")


def _child(request: dict, base_path: list[str]) -> int:
    """In the forked child: become the process `python -m ganzoo ARGS` would be, run it, exit."""
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(os.open(request["stdout"], os.O_WRONLY | os.O_TRUNC), 1)
    os.dup2(os.open(request["stderr"], os.O_WRONLY | os.O_TRUNC), 2)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [os.getcwd(), *extra, *base_path]
    import importlib
    import random

    import torch

    importlib.invalidate_caches()
    random.seed()  # a fresh process's random module has a fresh seed
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", 0)) or os.cpu_count() or 1)
    sys.argv = [str(Path(__file__)), *request["args"]]
    code: object = 0
    try:
        import runpy

        runpy.run_module("ganzoo", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
    except BaseException:  # what the interpreter does with an uncaught exception
        import traceback

        traceback.print_exc()
        code = 1
    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    import atexit

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def serve() -> None:
    for name in PRELOAD:
        __import__(name)
    base_path = sys.path[1:]  # without this script's folder
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request, base_path)
            finally:
                os._exit(code)
        replies.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"status": os.waitstatus_to_exitcode(status)}) + "\n")


class CliServer:
    """The pytest side: one warm interpreter for this worker, started at the first command line."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen(
                [sys.executable, str(Path(__file__))],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env={**os.environ, "COLUMNS": "200"},
            )
        return self.process

    def run(self, args: list[str], env: dict, cwd: Path | None, timeout: float) -> subprocess.CompletedProcess:
        server = self._start()
        assert server.stdin is not None and server.stdout is not None
        with tempfile.TemporaryDirectory() as scratch:
            out, err = Path(scratch, "stdout"), Path(scratch, "stderr")
            out.touch()
            err.touch()
            request = {"args": args, "env": env, "cwd": str(cwd or os.getcwd()), "stdout": str(out), "stderr": str(err)}
            server.stdin.write(json.dumps(request) + "\n")
            server.stdin.flush()
            pid = json.loads(server.stdout.readline())["pid"]
            timer = _Alarm(timeout, pid)
            with timer:
                reply = server.stdout.readline()
            if not reply:
                raise RuntimeError("the tests' warm ganzoo interpreter died (see stderr)")
            stdout = out.read_text(errors="replace")
            stderr = err.read_text(errors="replace")
        if timer.fired:
            raise subprocess.TimeoutExpired(["ganzoo", *args], timeout, stdout, stderr)
        return subprocess.CompletedProcess(["ganzoo", *args], json.loads(reply)["status"], stdout, stderr)


class _Alarm:
    """Kills the child after `timeout` seconds, as subprocess.run's timeout does."""

    def __init__(self, timeout: float, pid: int) -> None:
        self.timeout, self.pid, self.fired = timeout, pid, False

    def _kill(self) -> None:
        self.fired = True
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __enter__(self) -> _Alarm:
        import threading

        self.timer = threading.Timer(self.timeout, self._kill)
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()


if __name__ == "__main__":
    serve()
