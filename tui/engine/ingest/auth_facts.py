"""SQL for the authentication facts of a sign-in record (SPEC §10): its category, whether it was
interactive, its `authenticationDetails` condensed step by step, and what the record itself shows
of MFA.

`mfa` per record is one of `performed` (a step completed a fresh second factor), `by_claim` (an MFA
requirement satisfied by a claim in an earlier token, or "previously satisfied"), `single_factor`
(steps are listed and none of them is MFA) or `unknown`: an empty `authenticationDetails` means the
data is missing (DOMAIN.md §8: some tenants export it empty since late 2025; Graph v1.0 has no such
member at all), never "no MFA". Where the steps are missing, `status.additionalDetails` ("MFA
requirement satisfied by claim in the token", "MFA completed in Azure AD") still tells. A session's
and a token's provenance (`no_issuance_record` too) are the analyses' (`tui.engine.analyses`).

Step requirement names are matched loosely (`Multi-factor authentication`, `Multifactor
authentication`, `MFA`, `Phishing resistant MFA`); `Previously satisfied` and `Satisfied by token`
are no fresh factor; `Password` is never a second one.

A malformed `authenticationDetails` (Sentinel's CSV keeps it as JSON text) is read as far as it
goes: a single step object where a list was due (PowerShell's `ConvertTo-Json` unwraps a one-element
array) is that one step; a list cut short keeps the steps that are complete before the cut; entries
that are not steps (numbers, strings, empty objects, a `succeeded` that is no boolean) are skipped.
What could not be read is named after the steps (`…; unreadable: 1 of 3 entries`, `…; unreadable:
cut short at {"authenticationMe`), and a value with no readable step at all is kept as written
(`unreadable: …`). Steps read in part can show MFA performed or satisfied by claim; they never
show `single_factor` (the missing steps may hold the second factor).
"""

from __future__ import annotations

from collections.abc import Callable

from tui.engine.core.sql import literal

# The members of one authenticationDetails step that the facts read; `succeeded` is a JSON boolean
# in Graph and Event Hub records and a string in some CSV round trips: read as text, compared lower.
_ONE = (
    '{"authenticationMethod": "VARCHAR", "authenticationStepRequirement": "VARCHAR", '
    '"succeeded": "VARCHAR", "authenticationStepResultDetail": "VARCHAR"}'
)
_STEP = f"[{_ONE}]"
_MFA_STEP = r"(?i)(multi.?factor|\bmfa\b)"
_NO_FRESH_FACTOR = "['previously satisfied', 'satisfied by token']"  # a DuckDB list
# An entry that is a step: an object naming its method or its requirement, whose `succeeded` (when
# present) is a boolean (`"yes"`, a number or an object is a value of the wrong type: not read)
_READ = (
    "s IS NOT NULL AND coalesce(s.authenticationMethod, s.authenticationStepRequirement) IS NOT NULL "
    "AND (s.succeeded IS NULL OR lower(s.succeeded) IN ('true', 'false'))"
)
MAX_SHOWN = 200  # characters of an unreadable value kept in auth_steps

# A sign-in's category from whichever name its export gives it: a diagnostic record's `category`,
# Sentinel's `Category` or `Type`, Graph beta's `signInEventTypes` (a list: its first member).
CATEGORY_NAMES = {
    "signinlogs": "interactiveUser",
    "interactiveuser": "interactiveUser",
    "noninteractiveusersigninlogs": "nonInteractiveUser",
    "aadnoninteractiveusersigninlogs": "nonInteractiveUser",
    "noninteractiveuser": "nonInteractiveUser",
    "serviceprincipalsigninlogs": "servicePrincipal",
    "aadserviceprincipalsigninlogs": "servicePrincipal",
    "serviceprincipal": "servicePrincipal",
    "managedidentitysigninlogs": "managedIdentity",
    "aadmanagedidentitysigninlogs": "managedIdentity",
    "managedidentity": "managedIdentity",
}


def category_sql(text: str) -> str:
    """The record's category: a sign-in category in Graph's words, any other value as written."""
    first = (
        f"CASE WHEN starts_with(ltrim({text}), '[') "
        f"THEN try(json_extract_string({text}, '$[0]')) ELSE {text} END"
    )
    key = f"lower(regexp_replace({first}, '[\\s_-]', '', 'g'))"
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in CATEGORY_NAMES.items())
    return f"nullif(CASE {key} {cases} ELSE trim({first}) END, '')"


# The portal's "Download" names each file after its category (`InteractiveSignIns_2025-12-01_2025-12-
# 04.csv`, `NonInteractiveSignIns_…`, `ApplicationSignIns_…` or `AppSignIns_…`, `MSISignIns_…`) and
# its CSV has no category column: the name is the only evidence of it. `…_AuthDetails_…` files hold
# steps, not sign-ins.
FILE_CATEGORIES = (
    ("noninteractivesignins", "nonInteractiveUser"),
    ("interactivesignins", "interactiveUser"),
    ("applicationsignins", "servicePrincipal"),
    ("appsignins", "servicePrincipal"),
    ("msisignins", "managedIdentity"),
)


def file_category(path: str) -> str | None:
    """The category a portal download's file name gives its sign-ins, else None."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1].lower()
    if "authdetails" in name:
        return None
    return next((cat for prefix, cat in FILE_CATEGORIES if name.startswith(prefix)), None)


def file_category_sql(path: str) -> str:
    """`file_category` of each row's file (`path` is a column: several files read as one)."""
    name = f"lower(regexp_extract({path}, '[^/\\\\]*$'))"
    cases = " ".join(
        f"WHEN starts_with({name}, {literal(prefix)}) THEN {literal(cat)}" for prefix, cat in FILE_CATEGORIES
    )
    return f"CASE WHEN contains({name}, 'authdetails') THEN NULL {cases} END"


def signin_category_sql(category: str, interactive: str) -> str:
    """A sign-in's category, from `isInteractive` where its export names none (Graph v1.0, the
    portal's CSV of one category)."""
    fallback = (
        f"CASE WHEN {interactive} THEN 'interactiveUser' WHEN NOT {interactive} THEN 'nonInteractiveUser' END"
    )
    return f"coalesce({category}, {fallback})"


def interactive_sql(text: str) -> str:
    """`isInteractive` (a JSON boolean, `True`/`False`, `true`/`false`, `1`/`0`) as a BOOLEAN."""
    return f"try_cast(lower(trim({text})) AS BOOLEAN)"


Once = Callable[[str], str]


def _plain(expr: str) -> str:
    return expr


def _read(text: str, once: Once) -> tuple[str, str]:
    """(entries, json) of the value: every entry it holds (its list; a single step object as a
    one-step list; else the complete flat objects before a cut: a truncated list), and whether the
    value is JSON (a list or one object: nothing was cut). `once` computes an expression once a row
    (`JsonReads.once`) however often the facts read it."""
    text = once(text)
    listed = once(f"try(from_json({text}, {literal(_STEP)}))")
    valid = once(f"CASE WHEN {listed} IS NOT NULL THEN true ELSE json_valid({text}) END")
    single = (
        f"CASE WHEN starts_with(ltrim({text}), '{{') AND {valid} "
        f"THEN [try(from_json({text}, {literal(_ONE)}))] END"
    )
    pieces = f"regexp_extract_all({text}, '\\{{[^{{}}]*\\}}')"
    salvaged = f"list_transform({pieces}, lambda o: try(from_json(o, {literal(_ONE)})))"
    return once(f"coalesce({listed}, {single}, {salvaged})"), valid


def _steps(text: str, once: Once) -> tuple[str, str, str]:
    """(steps, entries, whole): the readable steps of the value (`_READ`), in order (an empty list
    when there is none); every entry; and whether every entry of a JSON value was read as a step."""
    entries, valid = _read(text, once)
    steps = once(f"list_filter({entries}, lambda s: {_READ})")
    return steps, entries, f"(array_length({steps}) = array_length({entries}) AND {valid})"


def auth_steps_sql(json_text: str, once: Once = _plain) -> str:
    """`authenticationDetails` condensed: `Password [Primary authentication] ok: Correct password; …`.

    NULL for an empty list; what could not be read is named after the steps or, when no step could
    be read, kept as written: `unreadable: …` (the module's docstring says how far a value is read)."""
    json_text = once(json_text)  # the text as read (trimmed: a copy), once a row
    steps, entries, whole = _steps(json_text, once)
    one = (
        "concat_ws(' ', coalesce(s.authenticationMethod, '?'), "
        "'[' || s.authenticationStepRequirement || ']', "
        "CASE lower(s.succeeded) WHEN 'true' THEN 'ok' WHEN 'false' THEN 'failed' END) "
        "|| coalesce(': ' || nullif(s.authenticationStepResultDetail, ''), '')"
    )
    readable = f"array_to_string(list_transform({steps}, lambda s: {one}), '; ')"
    blank = f"regexp_full_match(trim({json_text}), '\\[\\s*\\]|null|')"
    lost = (
        f"CASE WHEN {_read(json_text, once)[1]} "
        f"THEN (array_length({entries}) - array_length({steps})) || ' of ' "
        f"|| array_length({entries}) || ' entries' "
        f"ELSE 'cut short' || coalesce(' at ' || nullif(left(regexp_extract({json_text}, "
        f"'\\{{[^}}]*$'), {MAX_SHOWN}), ''), '') END"
    )
    return (  # the blank test (a regex over the whole text) only where no step was read
        f"CASE WHEN {json_text} IS NULL THEN NULL "
        f"WHEN array_length({steps}) = 0 "
        f"THEN CASE WHEN NOT {blank} THEN 'unreadable: ' || left({json_text}, {MAX_SHOWN}) END "
        f"WHEN {whole} THEN {readable} "
        f"ELSE {readable} || '; unreadable: ' || {lost} END"
    )


def mfa_sql(json_text: str | None, hint: str | None, once: Once = _plain) -> str:
    """What one sign-in shows of MFA (the module's docstring says how), from its steps and hint."""
    cases = []
    if json_text is not None:
        steps, _, whole = _steps(once(json_text), once)
        fresh = (
            "lower(s.succeeded) = 'true' AND NOT list_contains("
            f"{_NO_FRESH_FACTOR}, lower(trim(s.authenticationMethod))) "
            "AND lower(trim(s.authenticationMethod)) NOT LIKE 'password%' "
            "AND coalesce(s.authenticationStepResultDetail, '') NOT ILIKE '%satisfied by claim%' "
            f"AND (regexp_matches(coalesce(s.authenticationStepRequirement, ''), {literal(_MFA_STEP)}) "
            "OR regexp_matches(lower(s.authenticationMethod), 'fido|passkey|windows hello|certificate'))"
        )
        claimed = (
            "coalesce(s.authenticationStepResultDetail, '') ILIKE '%mfa%satisfied by claim%' "
            f"OR (regexp_matches(coalesce(s.authenticationStepRequirement, ''), {literal(_MFA_STEP)}) "
            f"AND list_contains({_NO_FRESH_FACTOR}, lower(trim(s.authenticationMethod))))"
        )
        cases += [
            f"WHEN list_bool_or(list_transform({steps}, lambda s: {fresh})) THEN 'performed'",
            f"WHEN list_bool_or(list_transform({steps}, lambda s: {claimed})) THEN 'by_claim'",
            f"WHEN array_length({steps}) > 0 AND {whole} THEN 'single_factor'",
        ]
    if hint is not None:
        cases += [
            f"WHEN {hint} ILIKE '%satisfied by claim%' THEN 'by_claim'",
            f"WHEN {hint} ILIKE '%MFA completed%' OR {hint} ILIKE '%MFA successfully completed%' "
            "THEN 'performed'",
        ]
    return f"CASE {' '.join(cases)} ELSE 'unknown' END" if cases else "'unknown'"


__all__ = [
    "CATEGORY_NAMES",
    "FILE_CATEGORIES",
    "file_category",
    "file_category_sql",
    "MAX_SHOWN",
    "auth_steps_sql",
    "category_sql",
    "interactive_sql",
    "mfa_sql",
    "signin_category_sql",
]
