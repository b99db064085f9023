"""The answers built from the annotated events: the pane tables and named-query runner (`tables`:
tokens, mailboxes, drift), the analyst's marks joined into them (`marks`), the filter language
(`filter`), each pane's columns, pages and sort (`panes`), the detail panel's "why flagged"
(`explain`, `original`) and the timeline strip's buckets (`timeline`).

Imports `core`, `ingest`, `tokens` and `indicators`.
"""
