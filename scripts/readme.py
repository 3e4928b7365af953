"""Regenerate every ```console block of README.md from real runs, so its outputs stay true.

    python scripts/readme.py            # rewrite README.md in place
    python scripts/readme.py --check    # exit 1 and show a diff when README.md is out of date

Each ``$ command`` line of a console block is run with bash in a scratch directory holding a
copy of the bundled example store, the repository's committed ``config.toml``, and links to
``tests/`` and ``scripts/``; ``wikisync`` is this checkout (``python -m wikisync``). Whatever
follows the command up to the next ``$`` line is replaced by what it prints (stdout and stderr,
in order). ``echo $?`` sees the previous command's exit status. Runs are deterministic: UTC,
no colour, no pager, a fixed terminal width, scratch paths shown as ``.``, request times in
``-v`` logs shown as ``0.01 s``.

An HTML comment on the line right before a block steers it, ``<!-- readme: KEY[=VALUE] ... -->``:

- ``session=offline`` starts a fresh scratch directory (the first block starts one);
  ``session=stand-in versions=N`` also starts ``scripts/fake_confluence.py`` serving the first N
  bundled versions, with the config's ``openedx-roadmap`` page pointed at it (outputs show it
  as ``http://127.0.0.1:8765/wiki``). Blocks without ``session`` continue the current session,
  so a walkthrough can sync, edit and sync again across several blocks.
- ``lines=N`` keeps the first N lines of each command's output and adds a ``…`` line.
- ``skip`` leaves the block as written (for output no scratch run can produce).
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
EXAMPLE = "openedx-roadmap-example"
SHOWN_PORT = 8765
#: ``-v`` request log lines: ``-> 200 (0.03 s, 915 bytes)``; the time is shown as 0.01 s.
_REQUEST_TIME = re.compile(r"(-> \S+ \()\d+\.\d+ s")
_FENCE = re.compile(r"^```console\s*$")
_DIRECTIVE = re.compile(r"^<!--\s*readme:(.*?)-->\s*$")


@dataclass
class Block:
    """One console block: where it sits in the file and how to run it."""

    start: int  # index of the opening fence line
    end: int  # index of the closing fence line
    options: dict[str, str] = field(default_factory=dict)


def find_blocks(lines: list[str]) -> list[Block]:
    """Every ```console block with the directive on the line before it, if any."""
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        if _FENCE.match(lines[i]):
            j = i + 1
            while j < len(lines) and lines[j].rstrip() != "```":
                j += 1
            options: dict[str, str] = {}
            m = _DIRECTIVE.match(lines[i - 1]) if i else None
            if m:
                for word in m.group(1).split():
                    key, _, value = word.partition("=")
                    options[key] = value
            blocks.append(Block(i, j, options))
            i = j
        i += 1
    return blocks


def commands(body: list[str]) -> list[str]:
    """The ``$ `` lines of a block, without the prompt."""
    return [line[2:] for line in body if line.startswith("$ ")]


class Session:
    """A scratch directory (and maybe a running stand-in) that blocks run in, in order."""

    def __init__(self, kind: str, versions: int) -> None:
        self.tmp = tempfile.TemporaryDirectory(prefix="wikisync-readme-")
        self.dir = Path(self.tmp.name)
        self.stand_in: subprocess.Popen[str] | None = None
        self.port = SHOWN_PORT
        self.status = 0
        shutil.copytree(ROOT / "snapshots" / EXAMPLE, self.dir / "snapshots" / EXAMPLE)
        for name in ("tests", "scripts", "wikisync"):
            (self.dir / name).symlink_to(ROOT / name)
        bin_dir = self.dir / ".bin"
        bin_dir.mkdir()
        shim = bin_dir / "wikisync"
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m wikisync "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
        (bin_dir / "python").symlink_to(sys.executable)
        config = committed_config()
        if kind == "stand-in":
            self.port = self._start_stand_in(versions)
            config = config.replace(
                "https://openedx.atlassian.net/wiki", f"http://127.0.0.1:{self.port}/wiki"
            )
        (self.dir / "config.toml").write_text(config, encoding="utf-8")
        self.env = {
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),
            "HOME": str(self.dir),
            "TZ": "UTC",
            "LC_ALL": "C.UTF-8",
            "COLUMNS": "100",
            "NO_COLOR": "1",
            "PAGER": "cat",
            "FAKE_CONFLUENCE_PORT": str(self.port),
        }

    def _start_stand_in(self, versions: int) -> int:
        self.stand_in = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "fake_confluence.py"), "--port", "0",
             "--versions", str(versions)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        assert self.stand_in.stdout is not None
        for line in self.stand_in.stdout:
            m = re.match(r"fake Confluence at http://127\.0\.0\.1:(\d+)/", line)
            if m:
                return int(m.group(1))
        raise SystemExit("readme.py: the stand-in did not start")

    def run(self, command: str) -> str:
        """Run one command line; its output as the README shows it."""
        proc = subprocess.run(
            ["bash", "-c", f"(exit {self.status}); {command}"],
            cwd=self.dir,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=300,
        )
        self.status = proc.returncode
        out = proc.stdout.replace(f"{self.dir}/", "").replace(str(self.dir), ".")
        out = _REQUEST_TIME.sub(r"\g<1>0.01 s", out)  # `-v` request times vary run to run
        return out.replace(f"127.0.0.1:{self.port}", f"127.0.0.1:{SHOWN_PORT}")

    def close(self) -> None:
        if self.stand_in is not None:
            self.stand_in.terminate()
            self.stand_in.wait(timeout=10)
        self.tmp.cleanup()


def committed_config() -> str:
    """config.toml as committed (a user's own edits must not leak into the README)."""
    try:
        return subprocess.run(
            ["git", "show", "HEAD:config.toml"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return (ROOT / "config.toml").read_text(encoding="utf-8")


def abridge(output: str, limit: str | None) -> list[str]:
    lines = output.splitlines()
    if limit and len(lines) > int(limit):
        return [*lines[: int(limit)], "…"]
    return lines


def regenerate(text: str) -> str:
    """README text with every console block's outputs replaced by fresh runs."""
    lines = text.split("\n")
    out: list[str] = []
    done = 0
    session: Session | None = None
    try:
        for block in find_blocks(lines):
            out.extend(lines[done : block.start + 1])
            done = block.end
            body = lines[block.start + 1 : block.end]
            if "skip" in block.options or not commands(body):
                out.extend(body)
                continue
            kind = block.options.get("session")
            if session is None or kind:
                if session is not None:
                    session.close()
                session = Session(kind or "offline", int(block.options.get("versions", "1")))
            for command in commands(body):
                out.append(f"$ {command}")
                out.extend(abridge(session.run(command), block.options.get("lines")))
    finally:
        if session is not None:
            session.close()
    out.extend(lines[done:])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="only compare; exit 1 when stale")
    ap.add_argument("path", nargs="?", type=Path, default=README)
    args = ap.parse_args(argv)
    text = args.path.read_text(encoding="utf-8")
    fresh = regenerate(text)
    if args.check:
        if fresh == text:
            return 0
        diff = difflib.unified_diff(
            text.splitlines(), fresh.splitlines(), "README.md", "regenerated", lineterm=""
        )
        print("\n".join(diff))
        print("README.md is out of date: run python scripts/readme.py", file=sys.stderr)
        return 1
    if fresh != text:
        args.path.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
