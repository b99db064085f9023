"""The open case: its context built once (`context.Case`: options, connection, intel, key lists,
organisation), the stages run in order over it (`annotate`; `preview`, the Tokens pane before
the rows are stored), the `Session` the TUI and `scan` hold (`session`), and the analyst's saved
filters, marks and verdicts per input set (`state`).

"Case", not "session", for this stage: a session in the findings is a sign-in session (SPEC §10).
Imports every earlier stage; only `findings` and the UI import it.
"""
