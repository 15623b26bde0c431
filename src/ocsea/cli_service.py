"""CLI adapters for the service: ``serve``, ``apikeys``, ``users``, ``audit``."""

from __future__ import annotations

import getpass
import json
import re
import sys
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (logs, grep)
out = Console()
apikeys_app = typer.Typer(
    help="API keys for machine clients (shown once, stored hashed).", no_args_is_help=True
)
users_app = typer.Typer(
    help="User accounts (passwords hashed with argon2id).", no_args_is_help=True
)
audit_app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: ocsea.toml / OCSEA_DATABASE_URL)."),
]


def _engine(db: str | None):
    from ocsea.store.db import make_engine

    return make_engine(db)


def _duration(text: str) -> timedelta | None:
    if text in ("", "never"):
        return None
    m = re.fullmatch(r"(\d+)([dh])", text)
    if not m:
        raise typer.BadParameter("use e.g. 90d, 12h or never")
    n = int(m.group(1))
    return timedelta(days=n) if m.group(2) == "d" else timedelta(hours=n)


@apikeys_app.command("create")
def apikeys_create(
    name: Annotated[str, typer.Option(help="Who uses it, e.g. 'search-provider-a'.")],
    role: Annotated[
        str, typer.Option(help="service, analyst, investigator, supervisor, admin.")
    ] = "service",
    scopes: Annotated[
        str, typer.Option(help="Comma-separated scopes (empty: all the role allows).")
    ] = "query-check",
    expires: Annotated[str, typer.Option(help="Lifetime: 90d, 12h or never.")] = "90d",
    db: DbOption = None,
) -> None:
    """Create a key; it is printed once and cannot be shown again."""
    from ocsea.service import audit
    from ocsea.service.access import create_api_key

    engine = _engine(db)
    scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
    key_id, key = create_api_key(engine, name, role, scope_list, _duration(expires))
    audit.record(
        engine,
        f"cli:{getpass.getuser()}",
        "apikey.create",
        key_id,
        {"name": name, "role": role, "scopes": scope_list},
    )
    err.print(
        f"API key {key_id} for {name!r} ({role}; {', '.join(scope_list) or 'all role scopes'}); store it now:"
    )
    print(key)


@apikeys_app.command("revoke")
def apikeys_revoke(key_id: str, db: DbOption = None) -> None:
    from ocsea.service import audit
    from ocsea.service.access import revoke_api_key

    engine = _engine(db)
    if not revoke_api_key(engine, key_id):
        err.print(f"no active key {key_id}")
        raise typer.Exit(1)
    audit.record(engine, f"cli:{getpass.getuser()}", "apikey.revoke", key_id)
    err.print(f"key {key_id} revoked")


@apikeys_app.command("list")
def apikeys_list(db: DbOption = None) -> None:
    from ocsea.service.access import list_api_keys

    t = Table("key id", "name", "role", "scopes", "created", "expires", "revoked")
    for k in list_api_keys(_engine(db)):
        t.add_row(k["key_id"], k["name"], k["role"], ",".join(k["scopes"]), str(k["created_at"])[:19],
                  str(k["expires_at"] or "never")[:19], str(k["revoked_at"] or "")[:19])  # fmt: skip
    out.print(t)


def _password(prompt: bool) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    p1 = getpass.getpass("password: ")
    if prompt and getpass.getpass("again: ") != p1:
        raise typer.BadParameter("passwords differ")
    return p1


@users_app.command("add")
def users_add(
    username: str, role: Annotated[str, typer.Option()] = "analyst", db: DbOption = None
) -> None:
    """Add a user; the password is read from the terminal (or one line of stdin)."""
    from ocsea.service import audit
    from ocsea.service.access import add_user

    engine = _engine(db)
    add_user(engine, username, _password(True), role)
    audit.record(engine, f"cli:{getpass.getuser()}", "user.add", username, {"role": role})
    err.print(f"user {username!r} added ({role})")


@users_app.command("disable")
def users_disable(username: str, db: DbOption = None) -> None:
    from ocsea.service import audit
    from ocsea.service.access import disable_user

    engine = _engine(db)
    disable_user(engine, username)
    audit.record(engine, f"cli:{getpass.getuser()}", "user.disable", username)
    err.print(f"user {username!r} disabled")


@users_app.command("passwd")
def users_passwd(username: str, db: DbOption = None) -> None:
    from ocsea.service import audit
    from ocsea.service.access import set_password

    engine = _engine(db)
    set_password(engine, username, _password(True))
    audit.record(engine, f"cli:{getpass.getuser()}", "user.passwd", username)
    err.print(f"password of {username!r} changed")


@audit_app.command("verify")
def audit_verify(db: DbOption = None) -> None:
    """Check the hash chain: exit 1 and name the first bad entry if anything was changed."""
    from ocsea.service.audit import verify

    ok, n, why = verify(_engine(db))
    (out if ok else err).print(f"audit log: {n} entries, {why}")
    if not ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(db: DbOption = None) -> None:
    """Every entry as JSON lines (with its hashes, so the export can be verified elsewhere)."""
    from ocsea.service.audit import entries

    for e in entries(_engine(db)):
        sys.stdout.write(json.dumps(e, default=str, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(apikeys_app, name="apikeys")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(reviews_app, name="reviews")

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option()] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535)] = 8080,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Processes (2 for this 2-core machine).")
        ] = 2,
    ) -> None:
        """Run the HTTP API (settings from ocsea.toml / environment)."""
        import uvicorn

        from ocsea.store.db import make_engine

        make_engine()  # migrate once, before the workers start
        uvicorn.run("ocsea.service.server:app_factory", factory=True, host=host, port=port,
                    workers=workers, log_level="warning", timeout_keep_alive=5)  # fmt: skip


reviews_app = typer.Typer(help="Analyst reviews of findings.", no_args_is_help=True)


@reviews_app.command("export")
def reviews_export(
    out_path: Annotated[
        str, typer.Option("--out", help="CSV for `ocsea text train` (text,label,…).")
    ],
    db: DbOption = None,
) -> None:
    """Reviewed file names as labelled data: baseline/national → csa, not_illegal → benign
    (the newest review of a finding wins)."""
    import csv

    from sqlalchemy import select

    from ocsea.service import audit
    from ocsea.store.db import findings, items, reviews

    engine = _engine(db)
    latest: dict[int, tuple] = {}
    with engine.connect() as conn:
        for r in conn.execute(
            select(reviews.c.finding_id, reviews.c.classification, reviews.c.age_group, reviews.c.reviewer,
                   reviews.c.created_at, items.c.text)
            .join(findings, findings.c.id == reviews.c.finding_id)
            .join(items, items.c.id == findings.c.item_id)
            .order_by(reviews.c.id)
        ):  # fmt: skip
            latest[r.finding_id] = r
    with open(out_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "classification", "age_group", "reviewer", "reviewed_at"])
        for r in latest.values():
            label = "benign" if r.classification == "not_illegal" else "csa"
            w.writerow(
                [r.text, label, r.classification, r.age_group, r.reviewer, str(r.created_at)]
            )
    audit.record(
        engine, f"cli:{getpass.getuser()}", "reviews.export", out_path, {"rows": len(latest)}
    )
    err.print(f"{len(latest)} reviewed findings written to {out_path}")
