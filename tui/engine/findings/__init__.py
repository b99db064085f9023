"""What leaves the engine: `scan`'s findings files and summary (`scan`), CSV and manifest writing
made safe for spreadsheets (`export`), the TUI's saved views (`save_view`), `triage decode`
(`decode`) and `triage inspect`'s pre-flight report (`inspect`).

The last stage: it may import every other one; nothing in the engine imports it.
"""
