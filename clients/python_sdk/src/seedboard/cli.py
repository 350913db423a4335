"""The ``seedboard`` command: login, token, sync, runs, variants, import, export."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from ._version import __version__
from .api import Api
from .client import Client, RetryPolicy
from .config import normalize_url, resolve_dir, resolve_settings, save_login
from .errors import SeedboardError
from .progress import Progress
from .sync import sync

__all__ = ["main"]


def _cmd_login(args: argparse.Namespace) -> int:
    home = resolve_dir(args.dir)
    current = resolve_settings(dir=home, mode="offline")
    # SEEDBOARD_URL and SEEDBOARD_TOKEN stand in for the prompts, so scripts and CI never block.
    url = args.url or os.environ.get("SEEDBOARD_URL") or ""
    if not url:
        url = input(f"Seedboard URL [{current.url or ''}]: ").strip() or current.url or ""
    if not url:
        print("error: a server URL is needed", file=sys.stderr)
        return 2
    url = normalize_url(url)
    token = (
        args.token or os.environ.get("SEEDBOARD_TOKEN") or getpass.getpass("API token: ").strip()
    )
    if not token:
        print("error: a token is needed", file=sys.stderr)
        return 2
    with Client(url, token, retry=RetryPolicy(budget=5.0)) as client:
        me = client.get("auth/whoami/")
    path = save_login(home, url=url, token=token)
    teams = ", ".join(me.get("teams") or []) or "none"
    scope = f"{me['scope']} token, " if me.get("scope") else ""
    print(f"Logged in to {url} as {me.get('user')} ({scope}teams: {teams}); saved to {path}")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    with Api(dir=args.dir) as api:
        if args.action == "create":
            expires = None
            if args.expires_days is not None:
                expires = datetime.now(timezone.utc) + timedelta(days=args.expires_days)
            made = api.create_token(args.name or "", scope=args.scope, expires_at=expires)
            # The text alone on stdout, so `TOKEN=$(seedboard token create)` works.
            print(made["token"])
            print(
                f"created {made['scope']} token sb_{made['prefix']}_… (shown once)", file=sys.stderr
            )
        elif args.action == "revoke":
            if not args.prefix:
                print("error: revoke needs the token's prefix", file=sys.stderr)
                return 2
            # Accept the prefix alone or the token as listed (sb_<prefix>_…).
            prefix = args.prefix.split("_")[1] if args.prefix.startswith("sb_") else args.prefix
            api.revoke_token(prefix)
            print(f"revoked sb_{prefix}_…")
        else:
            rows = [
                [
                    f"sb_{t['prefix']}_…",
                    _text(t["name"]),
                    t["scope"],
                    _text(t["created_at"])[:10],
                    _text(t["last_used_at"])[:16].replace("T", " ") or "never",
                    _text(t["expires_at"])[:10] or "never",
                ]
                for t in api.tokens()
            ]
            print(_table(rows, ["TOKEN", "NAME", "SCOPE", "CREATED", "LAST USED", "EXPIRES"]))
    return 0


def _progress(args: argparse.Namespace, **options: Any) -> Progress:
    return Progress(enabled=False if args.no_progress else None, **options)


def _cmd_sync(args: argparse.Namespace) -> int:
    with _progress(args) as progress:
        report = sync(
            dir=args.dir,
            url=args.url,
            token=args.token,
            run_ids=args.run or None,
            progress=progress,
        )
    print(report.summary())
    return 0 if report.ok else 1


def _cmd_import(args: argparse.Namespace) -> int:
    # Imported here: the importers are only needed by this command.
    from . import importers

    common: dict[str, Any] = {
        "model": args.model,
        "model_param": args.model_param,
        "seed_param": args.seed_param,
        "task": args.task or "",
        "tags": args.tag or (),
        "dir": args.dir,
    }
    try:
        with _progress(args) as progress:
            report = _run_import(importers, args, common, progress)
    except (ImportError, OSError, ValueError) as exc:  # a missing extra, an unreadable source
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    for line in report.details():
        print(line, file=sys.stderr)
    return 0 if report.ok else 1


def _run_import(
    importers: Any, args: argparse.Namespace, common: dict[str, Any], progress: Progress
) -> Any:
    if args.source == "tensorboard":
        return importers.import_tensorboard(args.logdir, args.project, progress=progress, **common)
    if args.source == "mlflow":
        return importers.import_mlflow(
            args.tracking_uri, args.project, experiment=args.experiment, progress=progress, **common
        )
    return importers.import_wandb(args.path, args.project, progress=progress, **common)


def _cmd_export(args: argparse.Namespace) -> int:
    if (args.project is None) == (args.comparison is None):
        print("error: give a project (team/project) or --comparison ID", file=sys.stderr)
        return 2
    output = args.output or (
        f"{(args.project or f'comparison-{args.comparison}').replace('/', '-')}.{args.format}"
    )
    unit = "points" if args.format == "csv" else "B"
    with Api(dir=args.dir) as api, _progress(args, points_unit=unit, runs=False) as progress:
        try:
            if args.comparison is not None:
                result = api.export_comparison(
                    args.comparison, output, format=args.format, keys=args.key, progress=progress
                )
            else:
                result = api.export(
                    args.project, output, format=args.format, runs=args.run, keys=args.key,
                    model=args.model, task=args.task, variant=args.variant, tag=args.tag,
                    status=args.status, progress=progress,
                )  # fmt: skip
        except (OSError, ValueError) as exc:  # a folder that is not there, a bad name
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(result.summary())
    return 0


def _table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [
        max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)
    ]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    return "\n".join(lines)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _last_value(run: dict[str, Any], key: str) -> str:
    """The run's last value of `key` (6 significant digits), "" if it never logged it."""
    value = ((run.get("metrics") or {}).get(key) or {}).get("last_value")
    if isinstance(value, float):
        return f"{value:.6g}"
    return _text(value)  # an int, a non-finite value as the server spells it, or nothing


def _config_value(run: dict[str, Any], path: str) -> str:
    """The run's config value at a dotted path, "" where it has none."""
    value: Any = run.get("config") or {}
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return json.dumps(value) if isinstance(value, (dict, list)) else _text(value)


def _cmd_runs(args: argparse.Namespace) -> int:
    keys = [key for key in (args.metrics or "").split(",") if key]
    columns = [path for path in (args.columns or "").split(",") if path]
    with Api(dir=args.dir) as api:
        runs = api.runs(
            args.project,
            model=args.model,
            status=args.status,
            tag=args.tag,
            ordering=args.ordering,
            metrics=keys or None,
            limit=args.limit,
        )
    rows = [
        [
            r["id"][:8],
            _text(r.get("name")),
            _text(r.get("model")),
            _text(r.get("seed")),
            _text(r.get("status")),
            _text(r.get("created_at"))[:19].replace("T", " "),
            *(_config_value(r, path) for path in columns),
            *(_last_value(r, key) for key in keys),
        ]
        for r in runs
    ]
    print(_table(rows, ["ID", "NAME", "MODEL", "SEED", "STATUS", "CREATED", *columns, *keys]))
    return 0


def _cmd_variants(args: argparse.Namespace) -> int:
    with Api(dir=args.dir) as api:
        stats = api.variants(args.project, args.metric, task=args.task)
    rows = []
    for block in stats:
        low, high = block.get("ci_low"), block.get("ci_high")
        rows.append(
            [
                _text(block.get("label")),
                _text(block.get("task")),
                _text(block.get("n")),
                "" if block.get("mean") is None else f"{block['mean']:.4g}",
                "" if low is None or high is None else f"{low:.4g}-{high:.4g}",
                block["variant"][:8],
            ]
        )
    print(_table(rows, ["VARIANT", "TASK", "SEEDS", "MEAN", "95% CI", "FINGERPRINT"]))
    if stats.status != "fresh":
        print(f"statistics are {stats.status}: a worker is updating them", file=sys.stderr)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="seedboard", description="Seedboard experiment tracker.")
    parser.add_argument("--version", action="version", version=f"seedboard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    login = sub.add_parser("login", help="check a token and save it with the server URL")
    login.add_argument("--url", help="server address (default: SEEDBOARD_URL, else prompted)")
    login.add_argument("--token", help="API token (default: SEEDBOARD_TOKEN, else prompted)")
    login.add_argument("--dir", help="settings directory (default: SEEDBOARD_DIR or ~/.seedboard)")
    login.set_defaults(func=_cmd_login)

    sync_p = sub.add_parser("sync", help="upload runs kept in the local spool")
    sync_p.add_argument("--dir", help="SEEDBOARD_DIR holding the spool")
    sync_p.add_argument("--url", help="server address (default: settings)")
    sync_p.add_argument("--token", help="API token (default: settings)")
    sync_p.add_argument("--run", action="append", help="only this run id (repeatable)")
    _add_no_progress(sync_p)
    sync_p.set_defaults(func=_cmd_sync)

    _add_import(sub)
    _add_export(sub)

    token = sub.add_parser("token", help="list, create or revoke your API tokens")
    token.add_argument("action", choices=["list", "create", "revoke"])
    token.add_argument("prefix", nargs="?", help="revoke: the token's prefix (sb_<prefix>_…)")
    token.add_argument("--name", help="create: a label to recognise it by")
    token.add_argument("--scope", choices=["write", "read"], default="write")
    token.add_argument("--expires-days", type=int, help="create: expire after this many days")
    token.add_argument("--dir", help="SEEDBOARD_DIR holding the settings")
    token.set_defaults(func=_cmd_token)

    runs = sub.add_parser("runs", help="list the runs of a project")
    runs.add_argument("project", help="team/project")
    runs.add_argument("--model")
    runs.add_argument("--status")
    runs.add_argument("--tag")
    runs.add_argument(
        "--metrics", help="comma-separated metric keys: a column of each one's last value"
    )
    runs.add_argument(
        "--ordering",
        help="created_at, name, seed, status or metric:KEY[:min|max|count]; "
        "descending with '-' and '=': --ordering=-metric:val/acc",
    )
    runs.add_argument(
        "--columns",
        help="comma-separated config paths shown as columns: --columns lr,optimizer.name",
    )
    runs.add_argument("--limit", type=int, default=50, help="at most this many runs (default 50)")
    runs.add_argument("--dir", help="SEEDBOARD_DIR holding the settings")
    runs.set_defaults(func=_cmd_runs)

    variants = sub.add_parser(
        "variants", help="a project's variants on a metric: labels, seeds, mean and 95% CI"
    )
    variants.add_argument("project", help="team/project")
    variants.add_argument("metric", help="a metric key, e.g. val/acc")
    variants.add_argument("--task")
    variants.add_argument("--dir", help="SEEDBOARD_DIR holding the settings")
    variants.set_defaults(func=_cmd_variants)
    return parser


def _add_no_progress(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-progress", action="store_true", help="no progress bars (drawn only on a terminal)"
    )


def _add_import(sub: Any) -> None:
    parser = sub.add_parser("import", help="import runs from TensorBoard, MLflow or W&B")
    sources = parser.add_subparsers(dest="source", required=True)
    tensorboard = sources.add_parser("tensorboard", help="a TensorBoard log directory")
    tensorboard.add_argument("logdir", help="folder whose subfolders hold event files")
    mlflow = sources.add_parser("mlflow", help="an MLflow tracking server or mlruns folder")
    mlflow.add_argument(
        "--tracking-uri", required=True, help="http://host:5000, a path to mlruns, or file:URI"
    )
    mlflow.add_argument("--experiment", help="only this experiment (by name; default: all)")
    wandb = sources.add_parser("wandb", help="W&B offline run folders or a CSV/Parquet export")
    wandb.add_argument("path", help="wandb/ folder, a run folder, .wandb file, .csv or .parquet")
    for source in (tensorboard, mlflow, wandb):
        source.add_argument("--project", required=True, help="team/project to import into")
        source.add_argument("--model", help="model of every run (default: see --model-param)")
        source.add_argument(
            "--model-param",
            default="model",
            help="config key holding the model when --model is not given (default: model)",
        )
        source.add_argument(
            "--seed-param",
            help="config key (dotted) holding the seed (default: seed, then random_seed)",
        )
        source.add_argument("--task", help="task of every run")
        source.add_argument("--tag", action="append", help="a tag for every run (repeatable)")
        source.add_argument("--dir", help="SEEDBOARD_DIR holding the settings")
        _add_no_progress(source)
        source.set_defaults(func=_cmd_import)


def _add_export(sub: Any) -> None:
    parser = sub.add_parser(
        "export", help="download every point of a project or comparison as CSV or Parquet"
    )
    parser.add_argument("project", nargs="?", help="team/project")
    parser.add_argument("--comparison", help="a saved comparison's id instead of a project")
    parser.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    parser.add_argument("-o", "--output", help="file to write (default: team-project.FORMAT)")
    parser.add_argument("--run", action="append", help="only this run id (repeatable)")
    parser.add_argument("--key", action="append", help="only this metric key (repeatable)")
    parser.add_argument("--model")
    parser.add_argument("--task")
    parser.add_argument("--variant", help="a variant fingerprint")
    parser.add_argument("--tag")
    parser.add_argument("--status")
    parser.add_argument("--dir", help="SEEDBOARD_DIR holding the settings")
    _add_no_progress(parser)
    parser.set_defaults(func=_cmd_export)


def _joined_option_values(argv: list[str]) -> list[str]:
    """`--ordering -metric:val/acc` as `--ordering=-metric:val/acc`: argparse takes a value that
    starts with '-' for an option, and a descending ordering always does."""
    joined: list[str] = []
    values = iter(argv)
    for arg in values:
        if arg == "--ordering":
            following = next(values, None)
            joined.append(arg if following is None else f"{arg}={following}")
        else:
            joined.append(arg)
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``seedboard`` console script; returns the exit status."""
    args = _parser().parse_args(_joined_option_values(sys.argv[1:] if argv is None else list(argv)))
    try:
        return int(args.func(args))
    except SeedboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
