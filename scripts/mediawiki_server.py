"""Start a throwaway MediaWiki on 127.0.0.1: Debian's package, a fresh SQLite wiki, ``php -S``.

Used by the wiki tests (tests/test_mediawiki.py) and by hand::

    python scripts/mediawiki_server.py start /tmp/mw            # prints the base URL
    python scripts/mediawiki_server.py start /tmp/mw --private  # anonymous reading off
    python scripts/mediawiki_server.py stop /tmp/mw

Needs ``apt-get install mediawiki php-cli php-sqlite3 php-xml php-mbstring php-intl`` (.ci/run
does it). Each wiki lives in its own folder: ``conf/LocalSettings.php`` (read through
``MW_CONFIG_FILE``, so the package's own settings are never touched), ``data/`` (SQLite) and
``server.log``. The server runs under ``setsid`` so that stopping it stops its whole process group
(``PHP_CLI_SERVER_WORKERS`` forks workers that would otherwise keep listening). apache2, which the
package pulls in, is never started.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

MEDIAWIKI = Path("/usr/share/mediawiki")
ADMIN = "Admin"
ADMIN_PASSWORD = "AdminPass-12345!"
#: A bot password must match [0-9a-w]{32,}: MediaWiki refuses x, y and z with a vague message.
BOT_APPID = "ci"
BOT_PASSWORD = "0123456789abcdefghijklmnopqrstuv"
BOT_USER = f"{ADMIN}@{BOT_APPID}"

_SETTINGS = """
$wgMainCacheType = CACHE_DB;      # the installer sets CACHE_NONE: logins would not last
$wgSessionCacheType = CACHE_DB;
$wgJobRunRate = 0;
$wgRateLimits = [];
$wgEnableBotPasswords = true;
$wgShowExceptionDetails = true;
$wgEnableUploads = false;
"""

_PRIVATE = """
$wgGroupPermissions['*']['read'] = false;
$wgGroupPermissions['*']['edit'] = false;
$wgGroupPermissions['*']['createaccount'] = false;
"""


def missing() -> str | None:
    """Why a wiki cannot be started here, or None when everything it needs is installed."""
    if shutil.which("php") is None:
        return "no php: apt-get install mediawiki php-cli php-sqlite3 php-xml php-mbstring php-intl"
    if not (MEDIAWIKI / "maintenance" / "install.php").is_file():
        return "no MediaWiki: apt-get install mediawiki"
    return None


@dataclass
class Wiki:
    """A running throwaway wiki."""

    root: Path
    port: int
    pgid: int
    proc: subprocess.Popen[bytes] | None = None  # when started by this process: reaped on stop

    @property
    def base_url(self) -> str:
        """The script path: api.php is base_url + "/api.php"."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.root / "conf" / "LocalSettings.php"

    def maintenance(self, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "MW_CONFIG_FILE": str(self.config_file)}
        return subprocess.run(
            ["php", str(MEDIAWIKI / "maintenance" / script), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGTERM)
        if self.proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)  # reap it, or it lingers as a zombie in the group
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pgid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pgid, signal.SIGKILL)


class _quiet:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: object, tb: object) -> bool:
        return isinstance(exc, ProcessLookupError | PermissionError)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(root: Path, *, private: bool = False, port: int | None = None) -> Wiki:
    """Install a fresh wiki in ``root`` (which must not hold one yet) and serve it."""
    why = missing()
    if why:
        raise RuntimeError(why)
    root = root.resolve()
    (root / "conf").mkdir(parents=True, exist_ok=False)
    (root / "data").mkdir()
    port = port or _free_port()
    env = {**os.environ, "MW_CONFIG_FILE": str(root / "conf" / "LocalSettings.php")}
    # install.php writes LocalSettings.php into --confpath; MW_CONFIG_FILE points there.
    subprocess.run(
        [
            "php",
            str(MEDIAWIKI / "maintenance" / "install.php"),
            "--quiet",
            "--dbtype",
            "sqlite",
            "--dbpath",
            str(root / "data"),
            "--dbname",
            "wikisync",
            "--confpath",
            str(root / "conf"),
            "--server",
            f"http://127.0.0.1:{port}",
            "--scriptpath",
            "",
            "--lang",
            "en",
            "--pass",
            ADMIN_PASSWORD,
            "--skins",
            "Vector",
            "WikisyncTest",
            ADMIN,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    with (root / "conf" / "LocalSettings.php").open("a", encoding="utf-8") as fh:
        fh.write(_SETTINGS)
        if private:
            fh.write(_PRIVATE)
    log = (root / "server.log").open("wb")
    proc = subprocess.Popen(
        [
            "php",
            "-d",
            "opcache.revalidate_freq=0",
            "-S",
            f"127.0.0.1:{port}",
            "-t",
            str(MEDIAWIKI),
        ],
        env={**env, "PHP_CLI_SERVER_WORKERS": "2"},
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # setsid: the workers share its process group
    )
    log.close()
    wiki = Wiki(root=root, port=port, pgid=proc.pid, proc=proc)
    (root / "server.pid").write_text(f"{proc.pid}\n{port}\n", encoding="ascii")
    try:
        wiki.maintenance(
            "createBotPassword.php",
            "--appid",
            BOT_APPID,
            "--grants",
            "basic,highvolume,editpage,createeditmovepage",
            ADMIN,
            BOT_PASSWORD,
        )
        _wait_ready(wiki, proc)
    except BaseException:
        wiki.stop()
        raise
    return wiki


def _wait_ready(wiki: Wiki, proc: subprocess.Popen[bytes], seconds: float = 20) -> None:
    url = f"{wiki.base_url}/api.php?action=query&meta=siteinfo&format=json"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"php -S exited: see {wiki.root / 'server.log'}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"MediaWiki did not answer on {wiki.base_url} within {seconds:.0f} s")


def stop(root: Path) -> None:
    """Stop the wiki started in ``root``."""
    pid, port = (root / "server.pid").read_text(encoding="ascii").split()
    Wiki(root=root, port=int(port), pgid=int(pid)).stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="install a fresh wiki in DIR and serve it")
    s.add_argument("dir", type=Path)
    s.add_argument("--private", action="store_true", help="anonymous reading off")
    s.add_argument("--port", type=int)
    t = sub.add_parser("stop", help="stop the wiki served from DIR")
    t.add_argument("dir", type=Path)
    args = ap.parse_args(argv)
    if args.cmd == "stop":
        stop(args.dir)
        return 0
    try:
        wiki = start(args.dir, private=args.private, port=args.port)
    except (RuntimeError, subprocess.CalledProcessError, FileExistsError) as exc:
        print(f"mediawiki_server: error: {exc}", file=sys.stderr)
        return 2
    print(wiki.base_url)
    print(f"bot login: {BOT_USER} / {BOT_PASSWORD}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
