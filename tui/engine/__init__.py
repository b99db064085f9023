"""The UI-free engine, one package per stage in the order data flows.

    core → ingest → tokens → indicators → analyses → case → findings     (sample: the generator)

A module imports only its own stage and earlier ones (tests/test_engine_layout.py asserts it), and
nothing under this package imports Textual (a test asserts it in a subprocess), so `triage scan`
and any other front end reach the whole analysis without the TUI. One case context
(`case.context.Case`: options, connection, intel, key lists, organisation) is built once per open
or scan and handed down.
"""
