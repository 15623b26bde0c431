"""CLI adapters for the service: ``serve``, ``apikeys``, ``users``, ``audit``."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ocsea.cli.common import read_only

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
    from ocsea.service.access import AccessError, parse_lifetime

    try:
        return parse_lifetime(text)
    except AccessError as exc:
        raise typer.BadParameter(str(exc)) from None


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
def apikeys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id (ocsea apikeys list).")], db: DbOption = None
) -> None:
    """Revoke a key (effective within 10 s)."""
    from ocsea.service import audit
    from ocsea.service.access import revoke_api_key

    engine = _engine(db)
    if not revoke_api_key(engine, key_id):
        err.print(f"no active key {key_id}")
        raise typer.Exit(1)
    audit.record(engine, f"cli:{getpass.getuser()}", "apikey.revoke", key_id)
    err.print(f"key {key_id} revoked")


@apikeys_app.command("list")
@read_only
def apikeys_list(db: DbOption = None) -> None:
    """API keys: id, name, role, scopes, created, expires, revoked (never the key)."""
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
    username: Annotated[str, typer.Argument(help="The new user's name.")],
    role: Annotated[
        str, typer.Option(help="analyst, investigator, supervisor or admin.")
    ] = "analyst",
    db: DbOption = None,
) -> None:
    """Add a user; the password is read from the terminal (or one line of stdin)."""
    from ocsea.service import audit
    from ocsea.service.access import add_user

    engine = _engine(db)
    add_user(engine, username, _password(True), role)
    audit.record(engine, f"cli:{getpass.getuser()}", "user.add", username, {"role": role})
    err.print(f"user {username!r} added ({role})")


@users_app.command("list")
@read_only
def users_list(db: DbOption = None) -> None:
    """User accounts: role, disabled or not, failed logins and lock."""
    from ocsea.service import audit
    from ocsea.service.access import list_users

    engine = _engine(db)
    rows = list_users(engine)
    audit.record(engine, f"cli:{getpass.getuser()}", "user.list", "", {"returned": len(rows)})
    t = Table("user", "role", "state", "created", "failed logins", "locked until")
    for u, lock in rows:
        t.add_row(u.username, u.role, "disabled" if u.disabled else "active", str(u.created_at)[:16],
                  str(lock.failures) if lock else "0", str(lock.locked_until)[:19] if lock and lock.locked_until else "")  # fmt: skip
    out.print(t)


@users_app.command("unlock")
def users_unlock(
    username: Annotated[str | None, typer.Argument(help="The account to unlock.")] = None,
    address: Annotated[str | None, typer.Option(help="A client address to unlock instead.")] = None,
    db: DbOption = None,
) -> None:
    """Lift the lock failed logins put on an account (or a client address)."""
    from ocsea.service import audit
    from ocsea.service.access import unlock

    if (username is None) == (address is None):
        raise typer.BadParameter("give a user name or --address")
    key = f"user:{username}" if username else f"ip:{address}"
    engine = _engine(db)
    found = unlock(engine, key)
    audit.record(engine, f"cli:{getpass.getuser()}", "user.unlock", key, {"was_locked": found})
    err.print(f"{key} unlocked" if found else f"{key} had no failed logins")


@users_app.command("disable")
def users_disable(
    username: Annotated[str, typer.Argument(help="The user to disable.")], db: DbOption = None
) -> None:
    """Disable an account; its sessions end at once."""
    from ocsea.service import audit
    from ocsea.service.access import disable_user

    engine = _engine(db)
    disable_user(engine, username)
    audit.record(engine, f"cli:{getpass.getuser()}", "user.disable", username)
    err.print(f"user {username!r} disabled")


@users_app.command("passwd")
def users_passwd(
    username: Annotated[str, typer.Argument(help="The user whose password changes.")],
    db: DbOption = None,
) -> None:
    """Set a new password (read from the terminal); every session of the user ends."""
    from ocsea.service import audit
    from ocsea.service.access import set_password

    engine = _engine(db)
    set_password(engine, username, _password(True))
    audit.record(engine, f"cli:{getpass.getuser()}", "user.passwd", username)
    err.print(f"password of {username!r} changed")


@audit_app.command("verify")
@read_only
def audit_verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="A signed checkpoint (ocsea audit checkpoint) to check the head against."
        ),
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="The checkpoint signer's public key (PEM).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Check the whole chain and list every bad entry; with a checkpoint, also a truncated or
    rewritten tail. Exit 1 when anything was changed."""
    from ocsea.service.audit import check_checkpoint, configured_key, read_checkpoint, verify_chain

    cp = None
    if checkpoint is not None:
        if public_key is None:
            raise typer.BadParameter("a checkpoint is checked with the signer's --public-key")
        cp = check_checkpoint(read_checkpoint(checkpoint), _read(public_key))
    rep = verify_chain(_engine(db), configured_key(), cp)
    if rep.intact:
        out.print(f"audit log: {rep.entries} entries, {rep.summary()}", highlight=False)
        return
    err.print(f"audit log: {rep.entries} entries, {len(rep.problems)} problem(s):", highlight=False)
    for p in rep.problems:
        err.print(f"  {p}", highlight=False)
    raise typer.Exit(1)


@audit_app.command("checkpoint")
@read_only
def audit_checkpoint(
    signing_key: Annotated[
        Path, typer.Option(help="Ed25519 private key (PEM), kept away from the database.")
    ],
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the checkpoint (JSON).")],
    db: DbOption = None,
) -> None:
    """Sign the chain's head now. Keep checkpoints where the database's administrators cannot
    change them (another machine, a printed copy, a ticket); verify --checkpoint finds a later
    truncation or rewrite."""
    from ocsea.service.audit import make_checkpoint

    if out_file.exists():
        raise typer.BadParameter(f"{out_file} exists: checkpoints are never overwritten")
    cp = make_checkpoint(_engine(db), _read(signing_key))
    out_file.write_text(json.dumps(cp, indent=2) + "\n", encoding="utf-8")
    out.print(f"checkpoint: entry {cp['last_id']} ({cp['entries']} entries) signed at {cp['at']} → {out_file}",
              highlight=False)  # fmt: skip


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise typer.BadParameter(f"{path} is a directory, not a key file") from None
    except OSError as exc:
        raise typer.BadParameter(f"{path}: {exc.strerror or exc}") from None


keys_app = typer.Typer(
    help="Keys: pseudonym and audit HMAC keys, checkpoint signing keys.", no_args_is_help=True
)


@keys_app.command("generate")
def keys_generate(
    out_file: Annotated[
        Path, typer.Option("--out", help="Key file to write (mode 600; never overwritten).")
    ],
    signing: Annotated[
        bool,
        typer.Option(
            "--signing", help="An Ed25519 key pair for audit checkpoints (public key in OUT.pub)."
        ),
    ] = False,
) -> None:
    """A new key: 32 random bytes as hex (for [pseudonymise] key_file or [audit] key_file), or an
    Ed25519 signing key pair."""
    import os
    import secrets

    from ocsea.service.audit import signing_keypair

    targets = [out_file, out_file.with_name(out_file.name + ".pub")] if signing else [out_file]
    for t in targets:
        if t.exists():
            raise typer.BadParameter(f"{t} exists: keys are never overwritten")
    if signing:
        private, public = signing_keypair()
    else:
        private, public = (secrets.token_hex(32) + "\n").encode(), b""
    fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private)
    if signing:
        targets[1].write_bytes(public)
        out.print(f"wrote {out_file} (private, mode 600) and {targets[1]} (public)")
    else:
        out.print(f"wrote {out_file} (32 random bytes as hex, mode 600)")


@audit_app.command("export")
@read_only
def audit_export(db: DbOption = None) -> None:
    """Every entry as JSON lines (with its hashes, so the export can be verified elsewhere)."""
    from ocsea.service.audit import entries

    for e in entries(_engine(db)):
        sys.stdout.write(json.dumps(e, default=str, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    app.add_typer(apikeys_app, name="apikeys")
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(keys_app, name="keys")
    app.add_typer(reviews_app, name="reviews")

    @app.command("serve")
    def serve(
        host: Annotated[
            str,
            typer.Option(
                help="Address to listen on (loopback by default; put a TLS proxy in front for more)."
            ),
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Processes (2 for this 2-core machine).")
        ] = 2,
        access_log: Annotated[
            bool, typer.Option(help="Log every request (method, path, status) to stderr.")
        ] = False,
    ) -> None:
        """Run the HTTP API (settings from ocsea.toml / environment). Prints where it listens."""
        import uvicorn

        from ocsea.service import audit
        from ocsea.store.db import make_engine

        key = audit.configured_key()  # a bad OCSEA_AUDIT_KEY is one line here, not a 500 each
        engine = make_engine()  # migrate once, before the workers start
        shown = engine.url.render_as_string(hide_password=True)
        err.print(f"ocsea {__import__('ocsea').__version__} serving http://{host}:{port} "
                  f"({workers} worker{'s' if workers > 1 else ''}; database {shown}); "
                  f"API docs at http://{host}:{port}/docs; Ctrl-C stops",
                  highlight=False)  # fmt: skip
        if key is None:
            err.print("warning: no audit key (OCSEA_AUDIT_KEY or [audit] key_file): the audit "
                      "log is chained but not keyed, so a rewritten log cannot be told from a "
                      "true one (`ocsea keys generate`, docs/permissions.md)", highlight=False)  # fmt: skip
        if host not in ("127.0.0.1", "localhost", "::1"):
            err.print(f"warning: plain HTTP on {host}: put a TLS proxy in front (passwords, "
                      "keys and evidence cross the network)", highlight=False)  # fmt: skip
        from ocsea.service.server import ProblemHttpToolsProtocol

        uvicorn.run("ocsea.service.server:app_factory", factory=True, host=host, port=port,
                    workers=workers, log_level="info" if access_log else "warning",
                    access_log=access_log, timeout_keep_alive=5, server_header=False,
                    http=ProblemHttpToolsProtocol or "auto")  # fmt: skip


reviews_app = typer.Typer(help="Analyst reviews of findings.", no_args_is_help=True)


@reviews_app.command("export")
def reviews_export(
    out_path: Annotated[
        str, typer.Option("--out", help="CSV for `ocsea text train` (text,label,…).")
    ],
    db: DbOption = None,
) -> None:
    """Reviewed file names as labelled data: baseline/national → csa, not_illegal → benign
    (the newest review of a finding wins). Files a scan scored for media risk carry their
    signals (nsfw, minor_face, small_image, media_risk) for `ocsea media calibrate`; no pixels."""
    import csv

    from sqlalchemy import and_, select

    from ocsea.media.risk import features, signals_of
    from ocsea.service import audit
    from ocsea.store.db import findings, items, reviews, signals

    engine = _engine(db)
    latest: dict[int, tuple] = {}
    with engine.connect() as conn:
        for r in conn.execute(
            select(reviews.c.finding_id, reviews.c.classification, reviews.c.age_group, reviews.c.reviewer,
                   reviews.c.created_at, items.c.text, signals.c.score.label("media_risk"),
                   signals.c.detail.label("media"))
            .join(findings, findings.c.id == reviews.c.finding_id)
            .join(items, items.c.id == findings.c.item_id)
            .outerjoin(signals, and_(signals.c.item_id == items.c.id, signals.c.type == "media"))
            .order_by(reviews.c.id)
        ):  # fmt: skip
            latest[r.finding_id] = r
    with open(out_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "classification", "age_group", "reviewer", "reviewed_at",
                    "nsfw", "minor_face", "small_image", "media_risk"])  # fmt: skip
        for r in latest.values():
            label = "benign" if r.classification == "not_illegal" else "csa"
            sig = signals_of(r.media or {})
            media: list = ["", "", "", ""]
            if sig is not None:
                nsfw, minor, _, small = features(sig)  # the rule's own features, as it saw them
                media = [nsfw, round(minor, 4), int(small), r.media_risk]
            w.writerow(
                [
                    r.text,
                    label,
                    r.classification,
                    r.age_group,
                    r.reviewer,
                    str(r.created_at),
                    *media,
                ]
            )
    audit.record(
        engine, f"cli:{getpass.getuser()}", "reviews.export", out_path, {"rows": len(latest)}
    )
    err.print(f"{len(latest)} reviewed findings written to {out_path}")
