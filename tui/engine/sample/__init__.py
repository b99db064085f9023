"""`triage sample`: a reproducible synthetic incident (`incident`) from a world of users and places
(`world`), seeded signing keys (`keys`), issued and forged tokens (`tokens`), gateway requests
(`gateway`), Purview audit records (`audit`), Entra sign-ins (`signins`), the identity attacks and
their decoys (`identity`, built by `attacks` and `decoys` from `scenario`, with Entra's directory
audit, risk detection and UAL logon records from `entra_records`) and the answer key (`truth`).

A generator beside the pipeline, not a stage of it: imports only `core`.
"""
