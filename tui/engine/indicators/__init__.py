"""The indicators: the one catalogue of codes, severities and SQL (`catalogue`), running it over
the stored events (`run`: helper tables, `run_catalogue`, `resplit`), the organisation inferred or
given (`org`), the drift split (`split`), and the annotated `events` view every pane reads
(`events_view`).

Imports `core`, `ingest` and `tokens`.
"""
