"""Many CLI cases in one fresh interpreter: each through `gradviz.cli.main`, in a folder of its own.

One interpreter start per group of cases, not per case, keeps dozens of cases to a few seconds, and a
fresh process tells whether torch was imported on the way to each answer.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

RUNNER = r"""
import contextlib, io, json, os, sys, traceback
from gradviz.cli import main

results = []
root = os.getcwd()
for index, args in enumerate(json.loads(sys.argv[1])):
    folder = os.path.join(root, f"case{index}")
    os.mkdir(folder)
    os.chdir(folder)
    out, err, code = io.StringIO(), io.StringIO(), None
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            main(args)
        except SystemExit as stop:
            code = stop.code
        except BaseException:  # a traceback: reported as such
            code, err = "traceback", io.StringIO(traceback.format_exc())
    os.chdir(root)
    files = sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)
    results.append(dict(code=code, stderr=err.getvalue(), stdout=out.getvalue(), torch="torch" in sys.modules,
                        entries=sorted(os.listdir(folder)), files=files))
print(json.dumps(results))
"""


def run_cli(cases: list[list[str]], folder) -> list[dict]:
    """Each argument list through `gradviz.cli.main` in `folder`/case<i> -> one dict per case: code (the
    exit code, None for a normal return, 'traceback' for an exception), stderr and stdout, torch (imported
    by then), entries (the case folder's listing) and files (every file under it, relative paths)."""
    result = subprocess.run([sys.executable, "-c", RUNNER, json.dumps(cases)], capture_output=True, text=True,
                            cwd=folder, env=dict(os.environ, MPLBACKEND="Agg"), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def refused_in_one_line(result: dict) -> bool:
    """A case of run_cli that was refused as a usage error should be: exit 2, one line on stderr that says
    error, no traceback, no file left behind."""
    lines = result["stderr"].strip().splitlines()
    return (result["code"] == 2 and len(lines) == 1 and "error" in lines[0] and "Traceback" not in result["stderr"]
            and not result["files"])
