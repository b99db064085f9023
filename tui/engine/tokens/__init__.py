"""The tokens: the vectorised decode of every distinct bearer value (`jwt_decode`), signature and
key-scope checks against offline key lists (`verify`: `KeyLists` read once per case), the built-in
Storm-0558 intel and `--ioc` files (`intel`, data in `intel/`; its temporary tables in
`intel_tables`), and token subjects with their usage (`subjects`).

Imports `core` and `ingest`.
"""
