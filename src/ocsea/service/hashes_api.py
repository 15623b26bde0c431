"""Known-material routes: hash look-up against the stored lists, the lists, and a small list sent
inline."""

from pathlib import Path as FsPath
from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import func, select

from ocsea.service import audit
from ocsea.service.access import Principal
from ocsea.service.app import (
    ApiContext,
    ListImportIn,
    ListImportOut,
    ListOut,
    LookupIn,
    LookupOut,
    MatchOut,
    Problem,
)
from ocsea.store.db import hash_entries, hash_lists


def register(app, ctx: ApiContext) -> None:
    """POST /v1/hashes/lookup, GET /v1/lists, POST /v1/lists/{name}/entries."""
    engine, principal, state = ctx.engine, ctx.principal, ctx.state

    @app.post("/v1/hashes/lookup", response_model=LookupOut, tags=["analysts"])
    def lookup(
        body: LookupIn, p: Annotated[Principal, Depends(principal("hashes:lookup"))]
    ) -> LookupOut:
        from ocsea.match.matcher import Matcher
        from ocsea.media.hashing import Digests, PdqHash

        if state["matcher"] is None:
            state["matcher"] = Matcher.from_store(engine)
        m = state["matcher"]
        out: list[MatchOut] = []
        for kind in ("md5", "sha1", "sha256"):
            for h in getattr(body, kind):
                d = Digests(0, h.lower() if kind == "md5" else "", h.lower() if kind == "sha1" else "",
                            h.lower() if kind == "sha256" else "")  # fmt: skip
                out += [MatchOut(hash=h, hash_type=x.hash_type, list=x.list_name, category=x.category, distance=0)
                        for x in m.match_digests(d)]  # fmt: skip
        for h in body.pdq:
            out += [MatchOut(hash=h, hash_type="pdq", list=x.list_name, category=x.category, distance=x.distance)
                    for x in m.match_pdq([PdqHash(h.lower(), 100)])]  # fmt: skip
        n = sum(len(getattr(body, k)) for k in ("md5", "sha1", "sha256", "pdq"))
        audit.record(engine, p.name, "hashes.lookup", "", {"hashes": n, "matches": len(out)})
        return LookupOut(matches=out)

    @app.get("/v1/lists", response_model=list[ListOut], tags=["analysts"])
    def lists(p: Annotated[Principal, Depends(principal("lists:read"))]) -> list[ListOut]:
        with engine.connect() as conn:
            rows = conn.execute(
                select(hash_lists.c.name, hash_lists.c.source, func.count(hash_entries.c.id))
                .join(hash_entries, hash_entries.c.list_id == hash_lists.c.id, isouter=True)
                .group_by(hash_lists.c.id, hash_lists.c.name, hash_lists.c.source)
                .order_by(hash_lists.c.name)
            ).all()
        audit.record(engine, p.name, "lists.read")
        return [ListOut(name=n, source=s, entries=c) for n, s, c in rows]

    @app.post("/v1/lists/{name}/entries", response_model=ListImportOut, tags=["analysts"])
    def import_entries(
        name: Annotated[str, Path(min_length=1, max_length=200)],
        body: ListImportIn,
        p: Annotated[Principal, Depends(principal("lists:write"))],
    ) -> ListImportOut:
        """Import a (small) hash list sent inline; large lists go through `ocsea hashes import`."""
        import tempfile

        from ocsea.hashlists.formats import HashListError
        from ocsea.hashlists.store import import_file

        with tempfile.TemporaryDirectory(prefix="ocsea-upload-") as tmp:
            path = FsPath(tmp) / body.file_name
            path.write_text(body.content, encoding="utf-8")
            try:
                r = import_file(engine, path, name, body.source, body.format, strict=True)
            except HashListError as exc:
                raise Problem(422, "hash list rejected", str(exc).replace(tmp + "/", "")) from None
        state["matcher"] = None  # rebuilt on the next lookup
        audit.record(
            engine,
            p.name,
            "list.import",
            name,
            {"format": r.format, "entries": r.n_entries, "new": r.n_new},
        )
        return ListImportOut(
            list=name,
            format=r.format,
            entries=r.n_entries,
            new=r.n_new,
            already_imported=r.already_imported,
        )
