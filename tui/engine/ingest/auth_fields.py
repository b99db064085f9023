"""The authentication facts' event fields from a detection's sources: `auth_steps` (a sign-in's
steps condensed, an Azure Activity caller's `amr`, a UAL sign-in's named facts, the portal CSV's MFA
method and result) and `mfa` (`tui.engine.ingest.auth_facts` has the SQL of both)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tui.engine.core.schema import Kind
from tui.engine.core.sql import literal
from tui.engine.ingest.auth_facts import auth_steps_sql, mfa_sql
from tui.engine.ingest.detect import Detection, Source, norm
from tui.engine.ingest.field_names import PORTAL_STEP_COLUMNS
from tui.engine.ingest.json_reads import JsonReads
from tui.engine.ingest.source_sql import json_text_sql, source_sql, text_sql


def auth_steps_field(
    det: Detection, sources: Sequence[Source], types: Mapping[str, str], reads: JsonReads | None
) -> str:
    """`auth_steps` from whatever a record has: a sign-in's `authenticationDetails` condensed
    (`auth_facts.auth_steps_sql`), an Azure Activity caller's `amr: rsa,mfa` (the claim as written:
    an MFA it claims, not one a sign-in shows), a UAL sign-in's named facts
    (`RequestType: SAS:ProcessAuth; ResultStatusDetail: Success; UserAuthenticationMethod: 1`)."""
    titled = [s for s in sources if portal_step(s)]
    listed = [s for s in sources if s.named is None and not portal_step(s)]
    named = [s for s in sources if s.named is not None]
    parts = []
    if listed and det.kind == Kind.AZURE_ACTIVITY:
        amr = ", ".join(text_sql(source_sql(s, types, reads)) for s in listed)
        parts.append(f"'amr: ' || coalesce({amr})")
    elif listed:
        texts = [json_text_sql(s, types, reads) for s in listed]
        text = texts[0] if len(texts) == 1 else f"coalesce({', '.join(texts)})"
        parts.append(auth_steps_sql(text, reads.once) if reads is not None else auth_steps_sql(text))
    for group, label in ((named, lambda s: s.named), (titled, lambda s: PORTAL_STEP_COLUMNS[norm(s.column)])):
        if group:
            each = ", ".join(
                f"{literal(f'{label(s)}: ')} || {text_sql(source_sql(s, types, reads))}" for s in group
            )
            parts.append(f"nullif(concat_ws('; ', {each}), '')")
    if not parts:
        return "NULL"
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


def portal_step(src: Source) -> bool:
    """One of the portal CSV's MFA columns (`PORTAL_STEP_COLUMNS`): text, not a list of steps."""
    return src.path is None and src.named is None and norm(src.column) in PORTAL_STEP_COLUMNS


def mfa_field_sql(
    det: Detection, types: Mapping[str, str], operation: str, reads: JsonReads | None = None
) -> str:
    """A sign-in's own MFA fact (`auth_facts.mfa_sql`); other kinds carry none (NULL), but a UAL
    sign-in (UserLoggedIn) whose `RequestType` is `SAS:ProcessAuth` is the second-factor step of a
    sign-in: `performed` for that record (any other UAL sign-in record: `unknown`). `operation` is
    the record's operation (its event field's SQL)."""
    if det.kind != Kind.SIGNIN:
        kinds = [s for s in det.fields.get("auth_steps", ()) if (s.named or "").lower() == "requesttype"]
        if not kinds:
            return "NULL"
        request = f"coalesce({', '.join(text_sql(source_sql(s, types, reads)) for s in kinds)})"
        return (
            f"CASE WHEN {request} = 'SAS:ProcessAuth' AND {operation} = 'UserLoggedIn' THEN 'performed' "
            f"WHEN {request} IS NOT NULL THEN 'unknown' END"
        )
    steps = [json_text_sql(s, types, reads) for s in det.fields.get("auth_steps", ()) if not portal_step(s)]
    hints = [text_sql(source_sql(s, types, reads)) for s in det.fields.get("mfa", ())]
    text = (steps[0] if len(steps) == 1 else f"coalesce({', '.join(steps)})") if steps else None
    hint = f"coalesce({', '.join(hints)})" if hints else None
    return mfa_sql(text, hint, reads.once) if reads is not None else mfa_sql(text, hint)


__all__ = ["auth_steps_field", "mfa_field_sql", "portal_step"]
