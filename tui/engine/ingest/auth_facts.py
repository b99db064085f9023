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
"""

from __future__ import annotations

from tui.engine.core.sql import literal

# The members of one authenticationDetails step that the facts read; `succeeded` is a JSON boolean
# in Graph and Event Hub records and a string in some CSV round trips: read as text, compared lower.
_STEP = (
    '[{"authenticationMethod": "VARCHAR", "authenticationStepRequirement": "VARCHAR", '
    '"succeeded": "VARCHAR", "authenticationStepResultDetail": "VARCHAR"}]'
)
_MFA_STEP = r"(?i)(multi.?factor|\bmfa\b)"
_NO_FRESH_FACTOR = "['previously satisfied', 'satisfied by token']"  # a DuckDB list

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


def _steps(json_text: str) -> str:
    return f"try(from_json({json_text}, {literal(_STEP)}))"


def auth_steps_sql(json_text: str) -> str:
    """`authenticationDetails` condensed: `Password [Primary authentication] ok: Correct password; …`.

    NULL for an empty list; a value that is not a list of steps is kept, marked `unreadable:`."""
    steps = _steps(json_text)
    one = (
        "concat_ws(' ', coalesce(s.authenticationMethod, '?'), "
        "'[' || s.authenticationStepRequirement || ']', "
        "CASE lower(s.succeeded) WHEN 'true' THEN 'ok' WHEN 'false' THEN 'failed' END) "
        "|| coalesce(': ' || nullif(s.authenticationStepResultDetail, ''), '')"
    )
    readable = f"nullif(array_to_string(list_transform({steps}, lambda s: {one}), '; '), '')"
    blank = f"regexp_full_match(trim({json_text}), '\\[\\s*\\]|null|')"
    return (
        f"CASE WHEN {json_text} IS NULL OR {blank} THEN NULL "
        f"WHEN {steps} IS NULL THEN 'unreadable: ' || left({json_text}, 200) ELSE {readable} END"
    )


def mfa_sql(json_text: str | None, hint: str | None) -> str:
    """What one sign-in shows of MFA (the module's docstring says how), from its steps and hint."""
    cases = []
    if json_text is not None:
        steps = _steps(json_text)
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
            f"WHEN len({steps}) > 0 THEN 'single_factor'",
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
    "auth_steps_sql",
    "category_sql",
    "interactive_sql",
    "mfa_sql",
    "signin_category_sql",
]
