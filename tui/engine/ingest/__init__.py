"""Inputs to events: expanding paths (`inputs`), sniffing formats (`formats`), copies of
compressed or transcoded inputs in the cache (`cache_copies`), detecting each file's kind and
column mapping (`detect`, `field_names`, `record_kinds`), registering readers (`readers`,
`records`, `w3c`, `json_reads`, `load_groups`), normalising to the event schema (`normalise`,
`time_profile`, `geo`; a sign-in's authentication facts: `auth_facts`, `auth_fields`,
`signin_values`), storing the rows once (`work`, `load`, `load_report`), and what the loaded
evidence can answer: repeated records (`repeats`) and silent stretches (`gaps`).

Imports only `core`.
"""
