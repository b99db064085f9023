"""The UI-free engine: loading, detection, tokens, indicators, analyses, export.

Nothing under this package imports Textual (a test asserts it in a subprocess), so
`triage scan` and any other front end reach the whole analysis without the TUI.
"""
