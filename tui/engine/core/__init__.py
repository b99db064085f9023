"""The ground every stage stands on: the DuckDB connection and its limits (`db`), the event schema
(`schema`), the options (`options`), named queries from `queries/` (`queries`), SQL quoting of
allow-listed identifiers (`sql`), making data inert for terminals and spreadsheets (`safe`), raw
bearer values found by their shape and withheld (`secrets`) and time display (`timefmt`).

Imports nothing of the engine but itself.
"""
